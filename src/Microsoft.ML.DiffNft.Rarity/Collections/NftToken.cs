using System.Text.Json.Nodes;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>One token of a collection: its id, its traits, optional descriptive metadata and an optional image.</summary>
public sealed class NftToken
{
    /// <summary>Creates a token.</summary>
    /// <param name="tokenId">The token id as text (ids can exceed 64 bits on chain).</param>
    /// <param name="attributes">The traits, in source order.</param>
    public NftToken(string tokenId, IReadOnlyList<NftAttribute> attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenId);
        ArgumentNullException.ThrowIfNull(attributes);
        TokenId = tokenId;
        Attributes = attributes;
    }

    /// <summary>The token id as text.</summary>
    public string TokenId { get; }

    /// <summary>The token's traits, in source order. A trait type appears at most once per token.</summary>
    public IReadOnlyList<NftAttribute> Attributes { get; }

    /// <summary>OpenSea <c>name</c>, when present.</summary>
    public string? Name { get; init; }

    /// <summary>OpenSea <c>description</c>, when present.</summary>
    public string? Description { get; init; }

    /// <summary>OpenSea <c>image</c> URI as written in the metadata, when present.</summary>
    public string? ImageUri { get; init; }

    /// <summary>Other top-level metadata fields (for example <c>external_url</c>), kept for a faithful round trip.</summary>
    public JsonObject? Extra { get; init; }

    /// <summary>The token's image, when the collection was loaded with images or rendered.</summary>
    public RgbaImage? Image { get; set; }

    /// <summary>A caption describing the token's traits (used as the text prompt), when one was made.</summary>
    public string? Caption { get; init; }

    /// <summary>
    /// The file <see cref="Image"/> was read from (an atlas sheet for an atlas tile), set by the loader so that errors about
    /// an image can name its file; null for images made in memory.
    /// </summary>
    internal string? ImagePath { get; set; }

    /// <summary>A copy of this token with another caption (the caption is fixed once a token is made).</summary>
    internal NftToken WithCaption(string? caption) => WithText(Attributes, caption);

    /// <summary>A copy of this token with other attributes and caption, everything else kept.</summary>
    internal NftToken WithText(IReadOnlyList<NftAttribute> attributes, string? caption) => new(TokenId, attributes)
    {
        Name = Name,
        Description = Description,
        ImageUri = ImageUri,
        Extra = Extra,
        Image = Image,
        ImagePath = ImagePath,
        Caption = caption,
    };

    /// <summary>Returns the value of a trait type (compared ordinally), or null when the token lacks it.</summary>
    public NftAttribute? Find(string traitType)
    {
        foreach (var a in Attributes)
            if (string.Equals(a.TraitType, traitType, StringComparison.Ordinal))
                return a;
        return null;
    }
}
