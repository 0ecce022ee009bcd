using System.Text;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Turns prompts into token ids for the prompt encoder. A WordPiece tokenizer (Microsoft.ML.Tokenizers) over a vocabulary
/// built from the collection's captions: every caption word is one token; single letters and digits, plain and as
/// "##" continuations, are always present, so a word never seen in the captions is spelled out piece by piece instead of
/// collapsing to [UNK]. Id 0 is padding (and the empty prompt, which is the unconditional input for guidance).
/// </summary>
/// <remarks>
/// Captions and prompts go through the same <see cref="PromptText"/> rules (NFC, lower case, grapheme clusters as the
/// unit), so an emoji or an accented letter is one vocabulary entry and encodes to it. Splitting by UTF-16 code units
/// once cut an emoji's surrogate pair into two halves, which UTF-8 turned into two identical U+FFFD entries.
/// </remarks>
internal sealed class PromptTokenizer
{
    /// <summary>The padding token.</summary>
    public const string PadToken = "[PAD]";

    /// <summary>The unknown-token marker.</summary>
    public const string UnknownToken = "[UNK]";

    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const int PadId = 0;

    private readonly WordPieceTokenizer _tokenizer;

    private PromptTokenizer(IReadOnlyList<string> vocabulary)
    {
        Vocabulary = vocabulary;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", vocabulary) + "\n"));
        _tokenizer = WordPieceTokenizer.Create(stream, new WordPieceOptions
        {
            UnknownToken = UnknownToken,
            PreTokenizer = PromptPreTokenizer.Instance,
            Normalizer = PromptNormalizer.Instance,
        });
    }

    /// <summary>The vocabulary in id order.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Number of ids.</summary>
    public int VocabularySize => Vocabulary.Count;

    /// <summary>Builds the vocabulary from captions (the units of <see cref="PromptText"/>, in first-seen order).</summary>
    public static PromptTokenizer FromCaptions(IEnumerable<string> captions)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var vocab = new List<string> { PadToken, UnknownToken };
        var seen = new HashSet<string>(vocab, StringComparer.Ordinal);
        void Add(string w)
        {
            if (seen.Add(w)) vocab.Add(w);
        }
        foreach (char c in "abcdefghijklmnopqrstuvwxyz0123456789")
        {
            Add(c.ToString());
            Add("##" + c);
        }
        foreach (var caption in captions)
        {
            if (caption is null) continue;
            foreach (var word in PromptText.Words(caption))
                Add(word);
        }
        return new PromptTokenizer(vocab);
    }

    /// <summary>Recreates a tokenizer from a saved vocabulary (id order), validating its shape.</summary>
    public static PromptTokenizer FromVocabulary(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count < 2 || vocabulary[0] != PadToken || vocabulary[1] != UnknownToken)
            throw new InvalidDataException($"A prompt vocabulary must start with {PadToken} and {UnknownToken}.");
        // The tokenizer reads its vocabulary as UTF-8 lines: a line break would split an entry, and an unpaired surrogate
        // would become U+FFFD, so that two different entries could read back as one.
        for (int i = 0; i < vocabulary.Count; i++)
        {
            string v = vocabulary[i];
            if (string.IsNullOrEmpty(v) || v.AsSpan().IndexOfAny('\n', '\r') >= 0)
                throw new InvalidDataException($"Prompt vocabulary entry {i} is empty or contains a line break.");
            if (!IsValidUtf16(v))
                throw new InvalidDataException($"Prompt vocabulary entry {i} is not valid Unicode text (it holds an unpaired surrogate).");
        }
        if (vocabulary.Distinct(StringComparer.Ordinal).Count() != vocabulary.Count)
            throw new InvalidDataException("A prompt vocabulary contains duplicate entries.");
        return new PromptTokenizer(vocabulary.ToArray());
    }

    /// <summary>Encodes one prompt into exactly <paramref name="maxTokens"/> ids (truncated or padded with <see cref="PadId"/>).</summary>
    public long[] Encode(string prompt, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (maxTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "maxTokens must be positive.");
        var ids = new long[maxTokens];
        if (prompt.Length == 0) return ids;
        var encoded = _tokenizer.EncodeToIds(prompt, maxTokens, out _, out _);
        for (int i = 0; i < encoded.Count && i < maxTokens; i++) ids[i] = encoded[i];
        return ids;
    }

    /// <summary>Encodes prompts row-major into a flat array of <c>prompts.Count × maxTokens</c> ids.</summary>
    public long[] EncodeBatch(IReadOnlyList<string> prompts, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        var ids = new long[prompts.Count * maxTokens];
        for (int i = 0; i < prompts.Count; i++)
            Encode(prompts[i], maxTokens).CopyTo(ids, i * maxTokens);
        return ids;
    }

    private static bool IsValidUtf16(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(text[i])) return false;
        }
        return true;
    }
}
