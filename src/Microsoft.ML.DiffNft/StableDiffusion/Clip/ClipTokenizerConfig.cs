namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// The settings of a diffusers folder's <c>tokenizer/tokenizer_config.json</c> and <c>tokenizer/special_tokens_map.json</c>
/// that change token ids. Defaults are transformers' <c>CLIPTokenizer</c> defaults.
/// </summary>
/// <remarks>
/// As in transformers, a token named in <c>special_tokens_map.json</c> overrides the same key of
/// <c>tokenizer_config.json</c>. That matters: Stable Diffusion 2.x folders name <c>"!"</c> (id 0) as the padding token
/// there, SD 1.x folders <c>"&lt;|endoftext|&gt;"</c> (id 49407), and the reference pads with what the folder names.
/// </remarks>
internal sealed record ClipTokenizerConfig
{
    /// <summary>The reference's default for every CLIP special token except the beginning of sequence.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The reference's default beginning-of-sequence token.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>
    /// Length every encoded prompt is padded or truncated to (<c>model_max_length</c>; 77 when absent, CLIP's context
    /// length, because the reference's "no limit" default cannot pad).
    /// </summary>
    public int ModelMaxLength { get; init; } = 77;

    /// <summary>
    /// <c>do_lower_case</c> as the folder states it. Informational: the reference lower-cases whatever it says (both of its
    /// cleanup paths do), and so does <see cref="ClipTokenizer"/>.
    /// </summary>
    public bool DoLowerCase { get; init; } = true;

    /// <summary>Beginning-of-sequence token (<c>bos_token</c>).</summary>
    public string BosToken { get; init; } = StartOfText;

    /// <summary>End-of-sequence token (<c>eos_token</c>).</summary>
    public string EosToken { get; init; } = EndOfText;

    /// <summary>Token for pieces the vocabulary lacks (<c>unk_token</c>).</summary>
    public string UnkToken { get; init; } = EndOfText;

    /// <summary>Padding token (<c>pad_token</c>).</summary>
    public string PadToken { get; init; } = EndOfText;

    /// <summary>
    /// Reads <c>tokenizer_config.json</c> and then <c>special_tokens_map.json</c> from <paramref name="folder"/>; either may be
    /// absent (defaults apply).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not a JSON object, a value has the wrong type, or <c>model_max_length</c> is below 3.</exception>
    public static ClipTokenizerConfig FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var config = new ClipTokenizerConfig();
        string configPath = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(configPath)) config = config.With(File.ReadAllText(configPath), configPath, readSettings: true);
        string mapPath = Path.Combine(folder, "special_tokens_map.json");
        if (File.Exists(mapPath)) config = config.With(File.ReadAllText(mapPath), mapPath, readSettings: false);
        return config;
    }

    /// <summary>
    /// This config with the keys of one JSON file applied: the special tokens, and with <paramref name="readSettings"/>
    /// also <c>model_max_length</c> and <c>do_lower_case</c> (which only <c>tokenizer_config.json</c> holds).
    /// </summary>
    /// <exception cref="InvalidDataException">See <see cref="FromFolder"/>; the message names <paramref name="source"/>.</exception>
    public ClipTokenizerConfig With(string json, string source, bool readSettings)
    {
        using var doc = ClipJson.ParseObject(json, source);
        var root = doc.RootElement;
        var next = this with
        {
            BosToken = Nonempty(ClipJson.Token(root, "bos_token", BosToken, source)!, "bos_token", source),
            EosToken = Nonempty(ClipJson.Token(root, "eos_token", EosToken, source)!, "eos_token", source),
            UnkToken = Nonempty(ClipJson.Token(root, "unk_token", UnkToken, source)!, "unk_token", source),
            PadToken = Nonempty(ClipJson.Token(root, "pad_token", PadToken, source)!, "pad_token", source),
        };
        if (!readSettings) return next;
        long max = ClipJson.LargeInt(root, "model_max_length", ModelMaxLength, source);
        // Transformers writes "unlimited" as 1e30; a tokenizer that pads to a fixed length needs a real one.
        if (max < 3 || max > 1_000_000)
            throw new InvalidDataException(
                $"'{source}': 'model_max_length' must be 3…1000000 (BOS, at least one token, EOS), found {max}.");
        return next with { ModelMaxLength = (int)max, DoLowerCase = ClipJson.Bool(root, "do_lower_case", DoLowerCase, source) };
    }

    private static string Nonempty(string token, string key, string source) =>
        token.Length > 0 ? token : throw new InvalidDataException($"'{source}': '{key}' is an empty string.");
}
