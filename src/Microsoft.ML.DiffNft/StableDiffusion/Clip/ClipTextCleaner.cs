using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// The text cleanup CLIP's reference tokenizer (transformers' <c>CLIPTokenizer</c>) applies before pre-tokenisation when
/// ftfy is not installed: its <c>BasicTokenizer(strip_accents=False, do_split_on_punc=False)</c> path. Drops NUL, U+FFFD
/// and every "C*" (control, format, private-use, unassigned, surrogate) character except tab, CR and LF; turns those three
/// and every "Zs" space into a space; surrounds each CJK ideograph with spaces; NFC; lower-cases; and joins the
/// whitespace-separated words with single spaces.
/// </summary>
/// <remarks>
/// <para>
/// Why not the ftfy path: ftfy (<c>fix_text</c>: mojibake repair, HTML entity unescaping, quote uncurling, …) is a large
/// heuristic library with no .NET port; diffusers' pipelines run without it unless it happens to be installed. For ASCII
/// prompts without control characters or HTML entities (<c>&amp;amp;</c>) both paths give the same words.
/// </para>
/// <para>
/// Differences from the reference for non-ASCII text: character classes come from .NET's Unicode tables, which may be a
/// different Unicode version than the reference's Python; lower-casing is .NET's per-character invariant mapping plus the
/// two full mappings Python applies that change common words (U+0130 'İ' → "i̇", and a word-final 'Σ' → 'ς'), while other
/// multi-character lower-case mappings of Python's <c>str.lower()</c> are not reproduced.
/// </para>
/// </remarks>
internal static class ClipTextCleaner
{
    /// <summary>Cleans <paramref name="text"/> as described on the type; the result has no leading, trailing or double spaces.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            // EnumerateRunes reads an unpaired surrogate as U+FFFD, which is dropped like the reference drops category Cs.
            int cp = rune.Value;
            if (cp == '\t' || cp == '\n' || cp == '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator)
            {
                sb.Append(' ');
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || IsOther(Rune.GetUnicodeCategory(rune))) continue;
            if (IsCjk(cp)) sb.Append(' ').Append(rune.ToString()).Append(' ');
            else sb.Append(rune.ToString());
        }
        string normalized = sb.ToString().Normalize(NormalizationForm.FormC);
        var words = normalized.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Select(Lower));
    }

    /// <summary>Python's <c>str.lower()</c> for the cases that matter to prompts (see the type's remarks).</summary>
    public static string Lower(string word)
    {
        var sb = new StringBuilder(word.Length);
        var runes = word.EnumerateRunes().ToArray();
        for (int i = 0; i < runes.Length; i++)
        {
            var r = runes[i];
            if (r.Value == 0x0130)
            {
                sb.Append("i\u0307");
            }
            else if (r.Value == 0x03A3)
            {
                // Final_Sigma: a capital sigma after a letter and not before one lower-cases to the final form.
                bool after = i > 0 && Rune.IsLetter(runes[i - 1]);
                bool before = i + 1 < runes.Length && Rune.IsLetter(runes[i + 1]);
                sb.Append(after && !before ? '\u03C2' : '\u03C3');
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }
        }
        return sb.ToString();
    }

    private static bool IsOther(UnicodeCategory c) => c is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    // BERT's "Chinese character" ranges (the CJK Unified Ideographs blocks and compatibility ideographs), which the
    // reference tokenises one character at a time.
    private static bool IsCjk(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
