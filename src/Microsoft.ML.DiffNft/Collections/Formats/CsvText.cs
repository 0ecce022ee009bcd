using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>Writes CSV fields with RFC 4180 quoting.</summary>
internal static class CsvText
{
    /// <summary>Appends one record (LF line end).</summary>
    public static void AppendRecord(StringBuilder sb, IEnumerable<string> fields)
    {
        bool first = true;
        foreach (var f in fields)
        {
            if (!first) sb.Append(',');
            first = false;
            AppendField(sb, f);
        }
        sb.Append('\n');
    }

    /// <summary>Appends one field, quoted when it holds a comma, quote or line break, or starts or ends with a space
    /// (so readers that trim keep the spaces).</summary>
    public static void AppendField(StringBuilder sb, string field)
    {
        bool quote = field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (field.Length > 0 && (char.IsWhiteSpace(field[0]) || char.IsWhiteSpace(field[^1])));
        if (!quote) { sb.Append(field); return; }
        sb.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
