using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Token ids are non-negative integers on chain (ERC-721 / ERC-1155 use uint256), kept as decimal text.
/// Readers canonicalise them (digits only, no leading zeros) so that <c>0001.png</c> matches token 1.
/// </summary>
internal static partial class TokenIds
{
    /// <summary>What error messages say a token id must look like.</summary>
    public const string Expected = "a non-negative integer token id";

    /// <summary>Canonicalises decimal text: trims, requires digits only, drops leading zeros.</summary>
    public static bool TryCanonical(ReadOnlySpan<char> text, out string id)
    {
        text = text.Trim();
        id = "";
        if (text.IsEmpty) return false;
        foreach (char c in text)
            if (c < '0' || c > '9') return false;
        int start = 0;
        while (start < text.Length - 1 && text[start] == '0') start++;
        id = text[start..].ToString();
        return true;
    }

    /// <summary>The canonical id in a CSV field, or a <see cref="InvalidDataException"/> naming the place and the column.</summary>
    public static string ParseField(string field, string columnName, SourceLocation where) =>
        TryCanonical(field, out var id) ? id : throw FormatErrors.Field(where, columnName, Expected, FormatErrors.Quote(field));

    /// <summary>True when the text is already canonical (what the writer requires, so file names reload to the same id).</summary>
    public static bool IsCanonical(string id) => TryCanonical(id, out var c) && string.Equals(c, id, StringComparison.Ordinal);

    /// <summary>Finds the id in a name such as "Pudgy Penguin #123" (a '#' followed by digits at the end).</summary>
    public static bool TryFromName(string? name, out string id)
    {
        id = "";
        if (string.IsNullOrEmpty(name)) return false;
        var m = NameNumber().Match(name);
        return m.Success && TryCanonical(m.Groups[1].ValueSpan, out id);
    }

    /// <summary>Orders canonical ids numerically (shorter is smaller; equal length compares as text).</summary>
    public static int CompareNumeric(string a, string b)
    {
        int byLength = a.Length.CompareTo(b.Length);
        return byLength != 0 ? byLength : string.CompareOrdinal(a, b);
    }

    /// <summary>A comparer that orders canonical ids numerically.</summary>
    public static IComparer<string> NumericComparer { get; } = Comparer<string>.Create(CompareNumeric);

    [GeneratedRegex(@"#\s*(\d+)\s*$")]
    private static partial Regex NameNumber();
}
