using System.Text;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Turns a Noun seed into OpenSea-style traits and a text caption: trait types <c>Background</c>, <c>Body</c>,
/// <c>Accessory</c>, <c>Head</c>, <c>Glasses</c> with the parts' trait values, and captions such as
/// "a noun, body teal, accessory txt noun multicolor, head goat, glasses square red".
/// </summary>
internal static class NounsMetadata
{
    /// <summary>The five attributes of a seed, in draw order.</summary>
    public static IReadOnlyList<NftAttribute> Attributes(NounSeed seed, NounsArt? art = null)
    {
        art ??= NounsArt.Default;
        seed.Validate(art);
        var attributes = new NftAttribute[NounsLayers.Count];
        for (int i = 0; i < NounsLayers.Count; i++)
        {
            var layer = NounsLayers.DrawOrder[i];
            attributes[i] = new NftAttribute(NounsLayers.TraitType(layer), art.Parts(layer)[seed[layer]].TraitValue);
        }
        return attributes;
    }

    /// <summary>
    /// The caption (text prompt) of a seed: "a noun" followed by body, accessory, head and glasses. The background is
    /// left out: it is a flat colour that a prompt rarely needs to fix.
    /// </summary>
    public static string Caption(NounSeed seed, NounsArt? art = null)
    {
        art ??= NounsArt.Default;
        seed.Validate(art);
        var sb = new StringBuilder("a noun");
        foreach (var layer in NounsLayers.DrawOrder)
        {
            if (layer == NounsLayer.Background) continue;
            sb.Append(", ").Append(NounsLayers.TraitType(layer).ToLowerInvariant())
              .Append(' ').Append(art.Parts(layer)[seed[layer]].TraitValue);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Creates the token of a seed: id, OpenSea name <c>"{namePrefix}{id}"</c>, a description that records the seed,
    /// image URI <c>images/{id}.png</c>, the five attributes, the caption and (optionally) the image.
    /// </summary>
    /// <param name="tokenId">The token id.</param>
    /// <param name="seed">The part indices.</param>
    /// <param name="art">The part library; the built-in Nouns art when null.</param>
    /// <param name="image">The rendered image to attach, or null.</param>
    /// <param name="namePrefix">Prefix of the token name ("Noun " gives "Noun 7").</param>
    public static NftToken CreateToken(string tokenId, NounSeed seed, NounsArt? art = null, RgbaImage? image = null, string namePrefix = "Noun ")
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenId);
        ArgumentNullException.ThrowIfNull(namePrefix);
        art ??= NounsArt.Default;
        return new NftToken(tokenId, Attributes(seed, art))
        {
            Name = namePrefix + tokenId,
            Description = $"A Noun rendered from the CC0 Nouns parts by Microsoft.ML.DiffNft (seed {seed}: background, body, accessory, head, glasses).",
            ImageUri = $"images/{tokenId}.png",
            Caption = Caption(seed, art),
            Image = image,
        };
    }
}
