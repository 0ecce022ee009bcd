using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// The JSON number grammar (RFC 8259 §6). Numeric trait values are kept as this exact text, so that a number read
/// from CSV can be written back to JSON unchanged and re-read as the same value.
/// </summary>
internal static partial class JsonNumberText
{
    /// <summary>True when <paramref name="text"/> is a JSON number such as <c>4</c>, <c>-0.5</c> or <c>1e9</c>.</summary>
    public static bool IsValid(string text) => Grammar().IsMatch(text);

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex Grammar();
}
