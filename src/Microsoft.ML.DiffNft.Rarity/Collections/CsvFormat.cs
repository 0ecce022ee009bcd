using System.Text;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Writes CSV text with RFC 4180 quoting, as every CSV the library and the <c>diffnft</c> tool write uses: a field is
/// quoted when it holds a comma, a quote (doubled inside) or a line break, or starts or ends with white space (so that
/// readers that trim keep the spaces). Records end with LF.
/// </summary>
internal static class CsvFormat
{
    /// <summary>Returns a field as it is written: unchanged, or quoted when it needs to be.</summary>
    /// <param name="value">The field's text.</param>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return NeedsQuotes(value) ? Quote(value) : value;
    }

    /// <summary>Appends one field (quoted when it needs to be) to <paramref name="sb"/>.</summary>
    /// <param name="sb">The text being built.</param>
    /// <param name="value">The field's text.</param>
    public static void AppendField(StringBuilder sb, string value)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(value);
        if (NeedsQuotes(value)) sb.Append(Quote(value));
        else sb.Append(value);
    }

    /// <summary>Appends one record: the fields separated by commas, then LF.</summary>
    /// <param name="sb">The text being built.</param>
    /// <param name="fields">The record's fields, in column order.</param>
    public static void AppendRecord(StringBuilder sb, IEnumerable<string> fields)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(fields);
        bool first = true;
        foreach (var f in fields)
        {
            if (!first) sb.Append(',');
            first = false;
            AppendField(sb, f);
        }
        sb.Append('\n');
    }

    private static bool NeedsQuotes(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1])));

    private static string Quote(string value) => "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
