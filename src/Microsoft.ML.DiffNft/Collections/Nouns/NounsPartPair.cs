namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>A part of a layer, named by its index (the seed value), independent of any particular <see cref="NounsArt"/>.</summary>
/// <param name="Layer">The layer.</param>
/// <param name="Index">The part index within the layer.</param>
internal readonly record struct NounsPartRef(NounsLayer Layer, int Index)
{
    /// <summary>The reference of a part.</summary>
    public static NounsPartRef Of(NounsPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return new NounsPartRef(part.Layer, part.Index);
    }

    /// <summary>
    /// Looks a part up by file name in an art (<c>head-goat</c>, <c>glasses-square-red</c>, background hex colour).
    /// Throws <see cref="ArgumentException"/> when the art has no such part.
    /// </summary>
    public static NounsPartRef Find(NounsArt art, string fileName)
    {
        ArgumentNullException.ThrowIfNull(art);
        ArgumentNullException.ThrowIfNull(fileName);
        var part = art.FindPart(fileName)
            ?? throw new ArgumentException($"The Nouns art has no part named '{fileName}' (expected a file name such as 'head-goat').", nameof(fileName));
        return Of(part);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{NounsLayers.TraitType(Layer)} {Index}";
}

/// <summary>
/// Two parts of different layers, used as a rule: an incompatible pair never appears together; a forced pair means
/// "if <see cref="First"/> then <see cref="Second"/>" (a token that draws the first part gets the second one).
/// </summary>
/// <param name="First">The first part (the condition of a forced pair).</param>
/// <param name="Second">The second part (what a forced pair imposes).</param>
internal sealed record NounsPartPair(NounsPartRef First, NounsPartRef Second);
