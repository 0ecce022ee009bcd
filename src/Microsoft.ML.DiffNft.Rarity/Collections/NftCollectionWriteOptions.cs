namespace Microsoft.ML.DiffNft.Collections;

/// <summary>Options for <see cref="NftCollectionWriter.Write"/>.</summary>
public sealed class NftCollectionWriteOptions
{
    /// <summary>
    /// The <c>image</c> field written for a token that has an image but no <see cref="NftToken.ImageUri"/>;
    /// <c>{id}</c> is replaced by the token id. Default <c>images/{id}.png</c> (relative to the collection folder).
    /// </summary>
    public string ImageUriFormat { get; set; } = "images/{id}.png";

    /// <summary>Whether to write <c>metadata/{id}.json</c>, one file per token. Default true.</summary>
    public bool WriteTokenFiles { get; set; } = true;

    /// <summary>Whether to write <c>images/{id}.png</c> for tokens with images. Default true.</summary>
    public bool WriteImages { get; set; } = true;

    /// <summary>Indent the JSON (readable, about twice as large). Default true.</summary>
    public bool Indented { get; set; } = true;

    /// <summary>
    /// Whether writing into a folder that already holds a collection is allowed. When true, per-token metadata files and
    /// images of tokens not in the new collection are deleted, so that loading the folder gives exactly this collection.
    /// Default false: writing over an existing collection throws <see cref="IOException"/>.
    /// </summary>
    public bool ReplaceExisting { get; set; }
}
