using System.Text.Json;
using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Builds the <see cref="InvalidDataException"/>s that every reader throws, so that all messages share one shape:
/// <c>'file', line L (token #i, token id N): field 'f': expected X, found Y.</c>
/// </summary>
internal static partial class FormatErrors
{
    /// <summary>A field holds something other than what the format allows.</summary>
    public static InvalidDataException Field(SourceLocation where, string field, string expected, string found) =>
        new($"{where}: field '{field}': expected {expected}, found {found}.");

    /// <summary>A problem that is not about one field.</summary>
    public static InvalidDataException At(SourceLocation where, string problem) => new($"{where}: {problem}");

    /// <summary>Wraps a JSON syntax error, reporting 1-based line and column (JsonException counts from 0).</summary>
    /// <param name="file">The file being read.</param>
    /// <param name="error">The parser's exception.</param>
    /// <param name="lineOffset">Lines before the parsed text (JSON Lines parse one line at a time).</param>
    /// <param name="tokenIndex">The token being read, when known.</param>
    public static InvalidDataException Json(string file, JsonException error, int lineOffset = 0, int? tokenIndex = null)
    {
        int line = lineOffset + (int)(error.LineNumber ?? 0) + 1;
        long column = (error.BytePositionInLine ?? 0) + 1;
        var where = new SourceLocation(file, line, tokenIndex);
        return new InvalidDataException($"{where}: invalid JSON at column {column}: {StripPosition(error.Message)}", error);
    }

    /// <summary>Describes a JSON value for "found …": its kind and a short excerpt.</summary>
    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"a string (\"{Shorten(value.GetString() ?? "")}\")",
        JsonValueKind.Number => $"a number ({Shorten(value.GetRawText())})",
        JsonValueKind.True or JsonValueKind.False => $"a boolean ({value.GetRawText()})",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => value.ValueKind.ToString(),
    };

    /// <summary>Quotes a piece of text for a message, cutting long text and showing control characters as escapes.</summary>
    public static string Quote(string text) => "'" + Shorten(text) + "'";

    private static string Shorten(string text) => UnicodeText.Printable(text, 60);

    // System.Text.Json appends "LineNumber: 2 | BytePositionInLine: 5." (0-based); we report our own 1-based numbers.
    private static string StripPosition(string message) => PositionSuffix().Replace(message, "").Trim();

    [GeneratedRegex(@"\s*(Path: \S*\s*\|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex PositionSuffix();
}
