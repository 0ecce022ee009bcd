namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// The shape of a CLIP text encoder: the keys of a diffusers folder's <c>text_encoder/config.json</c> (transformers'
/// <c>CLIPTextConfig</c>). Defaults are transformers' defaults, so a config that omits a key means what it means there.
/// </summary>
/// <remarks>
/// Keys that do not change the text encoder's computation (<c>projection_dim</c>, dropout rates, initialiser ranges,
/// <c>torch_dtype</c>, <c>architectures</c>, …) are ignored. Stable Diffusion 2.x folders already store
/// <c>num_hidden_layers</c> = 23 (the penultimate layer of OpenCLIP's 24), so the last hidden state of the configured
/// encoder is what both SD 1.x and 2.x condition on.
/// </remarks>
internal sealed record ClipTextConfig
{
    /// <summary>Number of token ids (<c>vocab_size</c>); 49,408 for every Stable Diffusion release.</summary>
    public int VocabSize { get; init; } = 49408;

    /// <summary>Width of the hidden states (<c>hidden_size</c>): 768 for SD 1.x, 1024 for SD 2.x.</summary>
    public int HiddenSize { get; init; } = 512;

    /// <summary>Width of the feed-forward layer (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 2048;

    /// <summary>Number of encoder layers (<c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Number of attention heads (<c>num_attention_heads</c>); must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 8;

    /// <summary>Number of learned positions (<c>max_position_embeddings</c>), the longest input; 77 for CLIP.</summary>
    public int MaxPositionEmbeddings { get; init; } = 77;

    /// <summary>The feed-forward activation (<c>hidden_act</c>).</summary>
    public ClipActivation HiddenAct { get; init; } = ClipActivation.QuickGelu;

    /// <summary>Epsilon of every LayerNorm (<c>layer_norm_eps</c>).</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Id of the padding token (<c>pad_token_id</c>); informational, the encoder does not use it.</summary>
    public int PadTokenId { get; init; } = 1;

    /// <summary>Id of the beginning-of-sequence token (<c>bos_token_id</c>); informational.</summary>
    public int BosTokenId { get; init; } = 0;

    /// <summary>Id of the end-of-sequence token (<c>eos_token_id</c>); informational.</summary>
    public int EosTokenId { get; init; } = 2;

    /// <summary>
    /// Whether the pipeline passes the tokenizer's attention mask to the encoder (<c>use_attention_mask</c>, a key diffusers
    /// reads; absent, and so false, in Stable Diffusion's own folders, whose padding tokens are attended to).
    /// </summary>
    public bool UseAttentionMask { get; init; }

    /// <summary>The Stable Diffusion 1.x text encoder (OpenAI CLIP ViT-L/14).</summary>
    public static ClipTextConfig StableDiffusion15 { get; } = new()
    {
        HiddenSize = 768,
        IntermediateSize = 3072,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        HiddenAct = ClipActivation.QuickGelu,
    };

    /// <summary>The Stable Diffusion 2.x text encoder (OpenCLIP ViT-H/14, truncated to 23 layers as diffusers stores it).</summary>
    public static ClipTextConfig StableDiffusion21 { get; } = new()
    {
        HiddenSize = 1024,
        IntermediateSize = 4096,
        NumHiddenLayers = 23,
        NumAttentionHeads = 16,
        HiddenAct = ClipActivation.Gelu,
    };

    /// <summary>The tiny configuration diffusers' own pipeline tests use (hidden 32, 5 layers, 4 heads, vocabulary 1000).</summary>
    public static ClipTextConfig Tiny { get; } = new()
    {
        VocabSize = 1000,
        HiddenSize = 32,
        IntermediateSize = 37,
        NumHiddenLayers = 5,
        NumAttentionHeads = 4,
        PadTokenId = 1,
        BosTokenId = 0,
        EosTokenId = 2,
    };

    /// <summary>Reads and validates a <c>config.json</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">See <see cref="FromJson"/>.</exception>
    public static ClipTextConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP text encoder config '{path}' does not exist.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates the text of a <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">
    /// Malformed JSON, a value of the wrong type, an unsupported <c>hidden_act</c> or sizes that cannot build an encoder;
    /// the message names the file, the key and the value.
    /// </exception>
    public static ClipTextConfig FromJson(string json, string source = "text_encoder/config.json")
    {
        using var doc = ClipJson.ParseObject(json, source);
        var root = doc.RootElement;
        var d = new ClipTextConfig();
        string act = ClipJson.String(root, "hidden_act", ClipActivations.ConfigName(d.HiddenAct), source)!;
        var activation = ClipActivations.TryParse(act)
            ?? throw new InvalidDataException(
                $"'{source}': 'hidden_act' is \"{act}\", which this CLIP text encoder does not implement (supported: \"quick_gelu\", \"gelu\").");
        var config = new ClipTextConfig
        {
            VocabSize = ClipJson.Int(root, "vocab_size", d.VocabSize, source),
            HiddenSize = ClipJson.Int(root, "hidden_size", d.HiddenSize, source),
            IntermediateSize = ClipJson.Int(root, "intermediate_size", d.IntermediateSize, source),
            NumHiddenLayers = ClipJson.Int(root, "num_hidden_layers", d.NumHiddenLayers, source),
            NumAttentionHeads = ClipJson.Int(root, "num_attention_heads", d.NumAttentionHeads, source),
            MaxPositionEmbeddings = ClipJson.Int(root, "max_position_embeddings", d.MaxPositionEmbeddings, source),
            HiddenAct = activation,
            LayerNormEps = ClipJson.Double(root, "layer_norm_eps", d.LayerNormEps, source),
            PadTokenId = ClipJson.Int(root, "pad_token_id", d.PadTokenId, source),
            BosTokenId = ClipJson.Int(root, "bos_token_id", d.BosTokenId, source),
            EosTokenId = ClipJson.Int(root, "eos_token_id", d.EosTokenId, source),
            UseAttentionMask = ClipJson.Bool(root, "use_attention_mask", false, source),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Checks that the sizes can build an encoder; <paramref name="source"/> names the config in errors.</summary>
    /// <exception cref="InvalidDataException">A size is not positive, the heads do not divide the width, or the epsilon is not a positive number.</exception>
    public void Validate(string source = "CLIP text config")
    {
        static void Positive(string source, string key, int value)
        {
            if (value < 1) throw new InvalidDataException($"'{source}': '{key}' must be at least 1, found {value}.");
        }
        Positive(source, "vocab_size", VocabSize);
        Positive(source, "hidden_size", HiddenSize);
        Positive(source, "intermediate_size", IntermediateSize);
        Positive(source, "num_hidden_layers", NumHiddenLayers);
        Positive(source, "num_attention_heads", NumAttentionHeads);
        Positive(source, "max_position_embeddings", MaxPositionEmbeddings);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException(
                $"'{source}': 'hidden_size' ({HiddenSize}) must be a multiple of 'num_attention_heads' ({NumAttentionHeads}).");
        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
            throw new InvalidDataException($"'{source}': 'layer_norm_eps' must be a positive number, found {LayerNormEps}.");
        if (!Enum.IsDefined(HiddenAct))
            throw new InvalidDataException($"'{source}': 'hidden_act' value {(int)HiddenAct} is not a known activation.");
    }
}
