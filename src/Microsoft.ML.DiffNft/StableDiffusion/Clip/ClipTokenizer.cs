using Microsoft.ML.Tokenizers;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// Stable Diffusion's CLIP tokenizer (transformers' <c>CLIPTokenizer</c>, called as diffusers' pipelines call it:
/// <c>padding="max_length", max_length=model_max_length, truncation=True</c>), loaded from a diffusers folder's
/// <c>tokenizer/</c>: <c>vocab.json</c>, <c>merges.txt</c>, and optionally <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>.
/// </summary>
/// <remarks>
/// <para>
/// A prompt becomes: the folder's special tokens (BOS, EOS, UNK, PAD) split out of the raw text and mapped to their ids, as
/// the reference splits its added tokens first (so SD 2.x, whose PAD is "!", encodes every "!" as id 0); each piece between
/// them cleaned (<see cref="ClipTextCleaner"/>: whitespace collapsed, lower-cased), pre-tokenised
/// (<see cref="ClipPreTokenizer"/>: CLIP's regex) and byte-level BPE'd with the <c>&lt;/w&gt;</c> end-of-word suffix and
/// the merges ranked by their order; then BOS + at most <c>model_max_length − 2</c> tokens + EOS, padded with PAD.
/// </para>
/// <para>
/// The BPE is Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> (<c>ByteLevel</c>, <c>EndOfWordSuffix = "&lt;/w&gt;"</c>).
/// Two things it does differently from the reference are bridged here: it refuses a merge whose result is not in the
/// vocabulary, and it maps a symbol the vocabulary lacks to the unknown token before merging, while the reference merges
/// first and maps any final piece the vocabulary lacks to UNK. Truncated vocabularies (test tokenizers) have both. So
/// every such result and symbol gets a stand-in id past the vocabulary, the BPE runs exactly as the reference's, and
/// stand-ins become UNK afterwards. ML.Tokenizers merges the lowest-ranked pair one occurrence at a time where the
/// reference merges all occurrences of it at once; the two agree for every merge list produced by BPE training (a merge's
/// result only takes part in later-ranked merges).
/// </para>
/// <para>
/// Differences from the reference for non-ASCII text: no ftfy (see <see cref="ClipTextCleaner"/>), and .NET's Unicode
/// tables and lower-casing instead of Python's for letters, numbers and case; ASCII prompts are encoded identically.
/// </para>
/// </remarks>
internal sealed class ClipTokenizer
{
    private const string EndOfWord = "</w>";

    private readonly BpeTokenizer _bpe;
    private readonly int _firstStandIn;
    private readonly (string Token, int Id)[] _splitTokens;

    private ClipTokenizer(BpeTokenizer bpe, int firstStandIn, ClipTokenizerConfig config, int bos, int eos, int unk, int pad, int vocabularySize)
    {
        _bpe = bpe;
        _firstStandIn = firstStandIn;
        Config = config;
        BosId = bos;
        EosId = eos;
        UnkId = unk;
        PadId = pad;
        VocabularySize = vocabularySize;
        // Longest first, so that the split takes the longest special token that starts at a position.
        _splitTokens = new[] { (config.BosToken, bos), (config.EosToken, eos), (config.UnkToken, unk), (config.PadToken, pad) }
            .DistinctBy(t => t.Item1, StringComparer.Ordinal).OrderByDescending(t => t.Item1.Length).ToArray();
    }

    /// <summary>The folder's settings.</summary>
    public ClipTokenizerConfig Config { get; }

    /// <summary>Length of every encoded prompt (<see cref="ClipTokenizerConfig.ModelMaxLength"/>, 77 for Stable Diffusion).</summary>
    public int ModelMaxLength => Config.ModelMaxLength;

    /// <summary>Id of the beginning-of-sequence token.</summary>
    public int BosId { get; }

    /// <summary>Id of the end-of-sequence token.</summary>
    public int EosId { get; }

    /// <summary>Id given to pieces the vocabulary lacks.</summary>
    public int UnkId { get; }

    /// <summary>Id that pads every prompt to <see cref="ModelMaxLength"/>.</summary>
    public int PadId { get; }

    /// <summary>Number of entries in <c>vocab.json</c>.</summary>
    public int VocabularySize { get; }

    /// <summary>Loads the tokenizer from a diffusers <c>tokenizer/</c> folder.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>vocab.json</c> or <c>merges.txt</c> is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or a special token is not in the vocabulary; the message names the file.</exception>
    public static ClipTokenizer FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"CLIP tokenizer folder '{folder}' does not exist.");
        string vocabPath = Path.Combine(folder, "vocab.json");
        var vocab = ClipVocabularyFiles.ReadVocabulary(vocabPath);
        var merges = ClipVocabularyFiles.ReadMerges(Path.Combine(folder, "merges.txt"));
        return Create(vocab, merges, ClipTokenizerConfig.FromFolder(folder), vocabPath);
    }

    /// <summary>Builds the tokenizer from a vocabulary and merges already read; <paramref name="vocabularySource"/> names the vocabulary in errors.</summary>
    /// <exception cref="InvalidDataException">A special token of <paramref name="config"/> is not in the vocabulary.</exception>
    public static ClipTokenizer Create(
        IReadOnlyDictionary<string, int> vocabulary,
        IReadOnlyList<(string Left, string Right)> merges,
        ClipTokenizerConfig? config = null,
        string vocabularySource = "vocab.json")
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(merges);
        config ??= new ClipTokenizerConfig();
        int Require(string token, string key) => vocabulary.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException(
                $"'{vocabularySource}' lacks the {key} \"{token}\" that the tokenizer config names (tokenizer_config.json or special_tokens_map.json).");
        int bos = Require(config.BosToken, "bos_token");
        int eos = Require(config.EosToken, "eos_token");
        int unk = Require(config.UnkToken, "unk_token");
        int pad = Require(config.PadToken, "pad_token");

        // The reference keeps the last rank of a merge listed twice (a dict built in order).
        var lastIndex = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) lastIndex[merges[i]] = i;
        var ranked = merges.Where((m, i) => lastIndex[m] == i).ToList();

        // Stand-ins (see the remarks): every byte symbol, plain and word-final, and every merge's parts and result.
        var bpeVocab = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        int firstStandIn = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        int next = firstStandIn;
        void Ensure(string token)
        {
            if (bpeVocab.TryAdd(token, next)) next++;
        }
        foreach (var symbol in ClipByteAlphabet.Symbols)
        {
            Ensure(symbol);
            Ensure(symbol + EndOfWord);
        }
        foreach (var (left, right) in ranked)
        {
            Ensure(left);
            Ensure(right);
            Ensure(left + right);
        }

        // The reference's cache returns these two strings unsplit (no "</w>"), whatever the config names; a pre-token equal to
        // one of them is looked up whole.
        var whole = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [ClipTokenizerConfig.StartOfText] = vocabulary.TryGetValue(ClipTokenizerConfig.StartOfText, out int s) ? s : unk,
            [ClipTokenizerConfig.EndOfText] = vocabulary.TryGetValue(ClipTokenizerConfig.EndOfText, out int e) ? e : unk,
        };
        var bpe = BpeTokenizer.Create(new BpeOptions(bpeVocab)
        {
            Merges = ranked.Select(m => m.Item1 + " " + m.Item2),
            PreTokenizer = ClipPreTokenizer.Instance,
            SpecialTokens = whole,
            UnknownToken = config.UnkToken,
            EndOfWordSuffix = EndOfWord,
            ByteLevel = true,
        });
        return new ClipTokenizer(bpe, firstStandIn, config, bos, eos, unk, pad, vocabulary.Count);
    }

    /// <summary>The ids of a prompt without BOS, EOS, truncation or padding.</summary>
    public List<int> Tokenize(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var ids = new List<int>();
        int start = 0, i = 0;
        while (i < prompt.Length)
        {
            var hit = _splitTokens.FirstOrDefault(t => string.CompareOrdinal(prompt, i, t.Token, 0, t.Token.Length) == 0);
            if (hit.Token is null)
            {
                i++;
                continue;
            }
            AddPiece(prompt[start..i], ids);
            ids.Add(hit.Id);
            i += hit.Token.Length;
            start = i;
        }
        AddPiece(prompt[start..], ids);
        return ids;
    }

    /// <summary>
    /// Encodes a prompt into exactly <see cref="ModelMaxLength"/> ids: BOS, the first <c>ModelMaxLength − 2</c> tokens, EOS,
    /// then <see cref="PadId"/>.
    /// </summary>
    public long[] Encode(string prompt) => Encode(prompt, out _);

    /// <summary>As <see cref="Encode(string)"/>; <paramref name="length"/> is the number of ids before the padding (BOS to EOS).</summary>
    public long[] Encode(string prompt, out int length)
    {
        var tokens = Tokenize(prompt);
        int kept = Math.Min(tokens.Count, ModelMaxLength - 2);
        var ids = new long[ModelMaxLength];
        ids[0] = BosId;
        for (int i = 0; i < kept; i++) ids[i + 1] = tokens[i];
        ids[kept + 1] = EosId;
        for (int i = kept + 2; i < ids.Length; i++) ids[i] = PadId;
        length = kept + 2;
        return ids;
    }

    /// <summary>Encodes prompts into an int64 tensor [prompts, <see cref="ModelMaxLength"/>] on the CPU.</summary>
    public Tensor EncodeBatch(IReadOnlyList<string> prompts) => EncodeBatch(prompts, out _, withMask: false);

    /// <summary>
    /// As <see cref="EncodeBatch(IReadOnlyList{string})"/>, also returning the attention mask (int64, 1 from BOS to EOS,
    /// 0 on padding) that diffusers passes when the text encoder's config sets <c>use_attention_mask</c>.
    /// </summary>
    public Tensor EncodeBatch(IReadOnlyList<string> prompts, out Tensor attentionMask)
    {
        var ids = EncodeBatch(prompts, out var mask, withMask: true);
        attentionMask = mask!;
        return ids;
    }

    private Tensor EncodeBatch(IReadOnlyList<string> prompts, out Tensor? attentionMask, bool withMask)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        int l = ModelMaxLength;
        var flat = new long[prompts.Count * l];
        var mask = withMask ? new long[flat.Length] : null;
        for (int b = 0; b < prompts.Count; b++)
        {
            if (prompts[b] is null) throw new ArgumentException($"Prompt {b} is null.", nameof(prompts));
            Encode(prompts[b], out int length).CopyTo(flat, b * l);
            if (mask is not null) Array.Fill(mask, 1L, b * l, length);
        }
        attentionMask = mask is null ? null : tensor(mask, new long[] { prompts.Count, l });
        return tensor(flat, new long[] { prompts.Count, l });
    }

    private void AddPiece(string piece, List<int> ids)
    {
        string cleaned = ClipTextCleaner.Clean(piece);
        if (cleaned.Length == 0) return;
        foreach (int id in _bpe.EncodeToIds(cleaned, considerPreTokenization: true, considerNormalization: false))
            ids.Add(id >= _firstStandIn ? UnkId : id);
    }
}
