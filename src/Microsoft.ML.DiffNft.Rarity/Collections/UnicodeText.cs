using System.Text;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// The collection's Unicode rule: trait types, text values and captions are compared as NFC (Unicode Normalization Form C,
/// canonical composition), so "é" written precomposed (U+00E9) and decomposed (e + U+0301) are one value. NFC, not NFKC:
/// compatibility forms ("ﬁ", full-width "Ａ", "²") look different and a collection may use them on purpose.
/// </summary>
internal static class UnicodeText
{
    /// <summary>The index of the first unpaired surrogate (UTF-16 that is not valid Unicode text), or −1.</summary>
    public static int IndexOfUnpairedSurrogate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else return i;
        }
        return -1;
    }

    /// <summary>
    /// The NFC form of valid text (ASCII and text already in NFC come back as the same instance).
    /// </summary>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate; check with <see cref="IndexOfUnpairedSurrogate"/>.</exception>
    public static string ToNfc(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Ascii.IsValid(text) || text.IsNormalized(NormalizationForm.FormC)) return text;
        return text.Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// Text as it can appear inside a one-line message: control characters as escapes (<c>\n</c>, <c>\u0001</c>), cut to
    /// <paramref name="maxLength"/> characters with "..." (never between the halves of a surrogate pair).
    /// </summary>
    public static string Printable(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(Math.Min(text.Length, maxLength) + 8);
        for (int i = 0; i < text.Length && sb.Length <= maxLength; i++)
        {
            char c = text[i];
            if (!char.IsControl(c)) sb.Append(c);
            else sb.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\u{(int)c:X4}" });
        }
        if (sb.Length <= maxLength) return sb.ToString();
        int cut = maxLength - 3;
        if (char.IsHighSurrogate(sb[cut - 1])) cut--;
        return sb.ToString(0, cut) + "...";
    }

    /// <summary>Describes a code unit for a message: <c>U+D83D</c>.</summary>
    public static string CodeUnit(char c) => $"U+{(int)c:X4}";
}
