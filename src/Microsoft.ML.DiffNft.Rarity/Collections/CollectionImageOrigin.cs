namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Where <see cref="NftCollectionLoader"/> took a collection's images from, kept so that an error about a token without
/// an image can name the file that was expected.
/// </summary>
/// <param name="Path">The folder of id-named image files, or the atlas index.</param>
/// <param name="IsAtlas">True when <paramref name="Path"/> is an atlas index.</param>
internal sealed record CollectionImageOrigin(string Path, bool IsAtlas)
{
    /// <summary>Where the image of <paramref name="tokenId"/> was expected, for a message.</summary>
    public string Expected(string tokenId) => IsAtlas
        ? $"a row for token {tokenId} in the atlas index '{Path}'"
        : $"'{System.IO.Path.Combine(Path, tokenId + ".png")}' (or .jpg, .jpeg, .gif, .bmp, .webp)";
}
