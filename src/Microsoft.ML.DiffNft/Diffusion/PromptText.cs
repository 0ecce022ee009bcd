using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// The text rules of prompts, shared by the vocabulary built from captions and by the encoding of prompts, so that a
/// caption's words are exactly the pre-tokens its prompt is split into:
/// <list type="bullet">
/// <item>Normalisation: Unicode NFC, then invariant lower case. "é" typed precomposed (U+00E9) or decomposed
/// (e + U+0301) is one word; an unpaired surrogate (invalid UTF-16) becomes U+FFFD.</item>
/// <item>Units: the text is read as user-perceived characters (extended grapheme clusters), never as UTF-16 code units,
/// so an emoji such as "😀" (a surrogate pair) or "👩‍💻" (a ZWJ sequence) is one unit. A run of letters, digits and
/// combining marks is one word; white space, control and format characters separate units; every other character
/// (punctuation, symbols, emoji) is a unit of its own.</item>
/// </list>
/// </summary>
internal static class PromptText
{
    /// <summary>NFC, then invariant lower case; unpaired surrogates become U+FFFD first (NFC refuses them).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Ascii.IsValid(text)) return text.ToLowerInvariant(); // nearly every prompt: NFC leaves ASCII unchanged
        string valid = ReplaceUnpairedSurrogates(text);
        return valid.Normalize(NormalizationForm.FormC).ToLowerInvariant();
    }

    /// <summary>The units of <paramref name="normalized"/> (text already passed through <see cref="Normalize"/>), as offsets and lengths.</summary>
    public static IEnumerable<(int Offset, int Length)> Split(string normalized)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        int wordStart = -1;
        int i = 0;
        while (i < normalized.Length)
        {
            int length = StringInfo.GetNextTextElementLength(normalized.AsSpan(i));
            var kind = Classify(normalized.AsSpan(i, length));
            if (kind == UnitKind.Word)
            {
                if (wordStart < 0) wordStart = i;
            }
            else
            {
                if (wordStart >= 0) yield return (wordStart, i - wordStart);
                wordStart = -1;
                if (kind == UnitKind.Symbol) yield return (i, length);
            }
            i += length;
        }
        if (wordStart >= 0) yield return (wordStart, normalized.Length - wordStart);
    }

    /// <summary>The units of a text as strings, after <see cref="Normalize"/>.</summary>
    public static IEnumerable<string> Words(string text)
    {
        string normalized = Normalize(text);
        foreach (var (offset, length) in Split(normalized)) yield return normalized.Substring(offset, length);
    }

    private enum UnitKind { Word, Separator, Symbol }

    // A grapheme cluster is classified by its first code point: "e" + U+0301 is a letter, "👩‍💻" a symbol.
    private static UnitKind Classify(ReadOnlySpan<char> element)
    {
        if (Rune.DecodeFromUtf16(element, out var rune, out _) != System.Buffers.OperationStatus.Done) return UnitKind.Symbol;
        if (Rune.IsWhiteSpace(rune)) return UnitKind.Separator;
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.Format: // a lone BOM, zero-width space or soft hyphen: invisible, so not a word of its own
                return UnitKind.Separator;
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
            case UnicodeCategory.DecimalDigitNumber:
                return UnitKind.Word;
            default:
                return Rune.IsLetter(rune) ? UnitKind.Word : UnitKind.Symbol;
        }
    }

    private static string ReplaceUnpairedSurrogates(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool paired = char.IsHighSurrogate(c) ? i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(text[i - 1]));
            if (paired && sb is null) continue;
            sb ??= new StringBuilder(text, 0, i, text.Length);
            sb.Append(paired ? c : '\uFFFD');
        }
        return sb?.ToString() ?? text;
    }
}
