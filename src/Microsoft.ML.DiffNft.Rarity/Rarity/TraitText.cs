using System.Text;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>OpenRarity's text rules for trait names and values.</summary>
internal static class TraitText
{
    /// <summary>The name of OpenRarity's synthetic trait that holds a token's number of traits.</summary>
    public const string TraitCountName = "meta_trait:trait_count";

    /// <summary>Initial length of the scratch buffers values are normalised into; they grow for longer values.</summary>
    public const int BufferLength = 256;

    /// <summary>
    /// OpenRarity's <c>value.lower().strip()</c>: trims white space and lower-cases (invariant culture, simple case
    /// mapping). Returns a slice of <paramref name="raw"/> when that is already normalised, else the normalised text in
    /// <paramref name="buffer"/>, which must be at least as long as <paramref name="raw"/>.
    /// </summary>
    public static ReadOnlySpan<char> Normalize(ReadOnlySpan<char> raw, Span<char> buffer)
    {
        var trimmed = raw.Trim();
        // Trait values are nearly always ASCII, often already lower case: two vectorised scans then spare the copy,
        // and ASCII lower-casing is cheaper than the culture-aware path (which gives the same result for ASCII).
        if (Ascii.IsValid(trimmed))
        {
            if (!trimmed.ContainsAnyInRange('A', 'Z')) return trimmed;
            Ascii.ToLower(trimmed, buffer, out int written);
            return buffer[..written];
        }
        int n = trimmed.ToLowerInvariant(buffer);
        return buffer[..n];
    }

    /// <summary>Normalises a whole string (trait names, values read from a model file).</summary>
    public static string Normalize(string raw) => raw.Trim().ToLowerInvariant();

    /// <summary>
    /// True when a normalised value counts towards <c>meta_trait:trait_count</c>: OpenRarity counts every attribute whose
    /// value is neither "none" nor empty.
    /// </summary>
    public static bool CountsAsTrait(ReadOnlySpan<char> normalized) =>
        normalized.Length != 0 && !normalized.SequenceEqual("none");
}
