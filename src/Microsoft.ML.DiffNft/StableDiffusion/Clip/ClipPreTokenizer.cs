using System.Text;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// CLIP's pre-tokenisation: the matches of
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// (case-insensitive), in order, with whitespace between matches dropped. Each match becomes one BPE word.
/// </summary>
/// <remarks>
/// Written as a scanner over Unicode scalar values rather than a .NET <see cref="System.Text.RegularExpressions.Regex"/>:
/// .NET's <c>\p{L}</c> and <c>\p{N}</c> test UTF-16 code units, so a letter outside the Basic Multilingual Plane (a surrogate
/// pair, e.g. 𝐀 or a CJK Extension B ideograph) would fall into the "other" class and split a word the reference keeps
/// whole. Alternatives are tried in the pattern's order at each position, exactly as the regex does: the special tokens,
/// then the contractions, then a run of letters, then a single number character, then a run of anything else that is not
/// whitespace.
/// </remarks>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    private static readonly string[] s_prefixes = ["<|startoftext|>", "<|endoftext|>", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>The one instance (it holds no state).</summary>
    public static ClipPreTokenizer Instance { get; } = new();

    private ClipPreTokenizer()
    {
    }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : Split(text);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : Split(text.ToString());

    /// <summary>The (offset, length) of each match in <paramref name="text"/>, in order.</summary>
    public static List<(int Offset, int Length)> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            var kind = Classify(text, i, out int width);
            if (kind == CharKind.Space)
            {
                i += width;
                continue;
            }
            string? prefix = s_prefixes.FirstOrDefault(p => string.Compare(text, i, p, 0, p.Length, StringComparison.OrdinalIgnoreCase) == 0);
            if (prefix is not null)
            {
                pieces.Add((i, prefix.Length));
                i += prefix.Length;
                continue;
            }
            int start = i;
            i += width;
            if (kind == CharKind.Letter || kind == CharKind.Other)
            {
                // [\p{L}]+ or [^\s\p{L}\p{N}]+: extend while the class stays the same.
                while (i < text.Length && Classify(text, i, out int w) == kind)
                    i += w;
            }
            pieces.Add((start, i - start));
        }
        return pieces;
    }

    private enum CharKind
    {
        Space,
        Letter,
        Number,
        Other,
    }

    private static CharKind Classify(string text, int index, out int width)
    {
        // An unpaired surrogate reads as U+FFFD (class "other"), one code unit wide; the text cleanup removes those anyway.
        if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out width) != System.Buffers.OperationStatus.Done)
            width = 1;
        if (Rune.IsWhiteSpace(rune)) return CharKind.Space;
        if (Rune.IsLetter(rune)) return CharKind.Letter;
        if (Rune.IsNumber(rune)) return CharKind.Number;
        return CharKind.Other;
    }
}
