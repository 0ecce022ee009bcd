namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>Column names the CSV formats recognise (compared case-insensitively).</summary>
internal static class CsvColumns
{
    /// <summary>Names of a token id column, most trusted first.</summary>
    public static readonly string[] TokenId = ["token_id", "tokenId", "id", "edition"];

    /// <summary>Names of the trait type column of a long CSV.</summary>
    public static readonly string[] TraitType = ["trait_type", "traitType"];

    /// <summary>The index of the first header name in <paramref name="names"/> (trying names in order), or -1.</summary>
    public static int Find(List<string> header, string[] names)
    {
        foreach (var n in names)
        {
            int i = header.FindIndex(h => string.Equals(h.Trim(), n, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        return -1;
    }

    /// <summary>True when the header is a long (one row per attribute) table: it names a trait type and a value column.</summary>
    public static bool IsLong(List<string> header) => Find(header, TraitType) >= 0 && Find(header, ["value"]) >= 0;
}
