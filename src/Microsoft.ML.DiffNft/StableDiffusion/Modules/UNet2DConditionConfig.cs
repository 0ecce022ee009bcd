using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// The architecture of a <see cref="UNet2DConditionModel"/>: the keys of a diffusers <c>unet/config.json</c> that Stable
/// Diffusion 1.x and 2.x use, with diffusers v0.21.4's constructor defaults. Options these modules do not implement are
/// rejected by <see cref="FromJson"/> when they are set to anything but their default.
/// </summary>
internal sealed record UNet2DConditionConfig
{
    /// <summary>The down-block type with resnets only.</summary>
    public const string DownBlock = "DownBlock2D";

    /// <summary>The down-block type with a transformer after every resnet.</summary>
    public const string CrossAttnDownBlock = "CrossAttnDownBlock2D";

    /// <summary>The up-block type with resnets only.</summary>
    public const string UpBlock = "UpBlock2D";

    /// <summary>The up-block type with a transformer after every resnet.</summary>
    public const string CrossAttnUpBlock = "CrossAttnUpBlock2D";

    /// <summary>The only supported mid block.</summary>
    public const string MidBlockCrossAttn = "UNetMidBlock2DCrossAttn";

    /// <summary>Where the config came from, for messages (a file path, or a note that it was built in code).</summary>
    public string Source { get; init; } = "UNet2DConditionConfig (built in code)";

    /// <summary><c>sample_size</c>: the latent size the model was trained at (informational; default null).</summary>
    public int? SampleSize { get; init; }

    /// <summary><c>in_channels</c> (default 4).</summary>
    public int InChannels { get; init; } = 4;

    /// <summary><c>out_channels</c> (default 4).</summary>
    public int OutChannels { get; init; } = 4;

    /// <summary><c>center_input_sample</c>: map the input x to 2x − 1 first (default false).</summary>
    public bool CenterInputSample { get; init; }

    /// <summary><c>flip_sin_to_cos</c>: cosines first in the timestep embedding (default true).</summary>
    public bool FlipSinToCos { get; init; } = true;

    /// <summary><c>freq_shift</c>: diffusers' <c>downscale_freq_shift</c> of the timestep embedding (default 0).</summary>
    public int FreqShift { get; init; }

    /// <summary><c>down_block_types</c> (default three <c>CrossAttnDownBlock2D</c> then <c>DownBlock2D</c>).</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = [CrossAttnDownBlock, CrossAttnDownBlock, CrossAttnDownBlock, DownBlock];

    /// <summary><c>mid_block_type</c> (default and only supported value <c>UNetMidBlock2DCrossAttn</c>).</summary>
    public string MidBlockType { get; init; } = MidBlockCrossAttn;

    /// <summary><c>up_block_types</c> (default <c>UpBlock2D</c> then three <c>CrossAttnUpBlock2D</c>).</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = [UpBlock, CrossAttnUpBlock, CrossAttnUpBlock, CrossAttnUpBlock];

    /// <summary><c>block_out_channels</c> (default 320, 640, 1280, 1280).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];

    /// <summary><c>layers_per_block</c>: resnets per down block; up blocks have one more (default 2).</summary>
    public PerBlock LayersPerBlock { get; init; } = PerBlock.Of(2);

    /// <summary><c>downsample_padding</c> (default 1).</summary>
    public int DownsamplePadding { get; init; } = 1;

    /// <summary><c>mid_block_scale_factor</c>: the mid block's resnets divide their output by it (default 1).</summary>
    public double MidBlockScaleFactor { get; init; } = 1.0;

    /// <summary><c>act_fn</c> (default and only supported value "silu"; "swish" is the same function).</summary>
    public string ActFn { get; init; } = "silu";

    /// <summary><c>norm_num_groups</c> (default 32).</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary><c>norm_eps</c>: epsilon of the resnets' and the output's GroupNorms (default 1e-5; transformers use 1e-6).</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary><c>cross_attention_dim</c>: width of the text encoder's hidden states (default 1280; 768 for SD 1.x, 1024 for SD 2.x).</summary>
    public int CrossAttentionDim { get; init; } = 1280;

    /// <summary><c>transformer_layers_per_block</c> (default 1).</summary>
    public PerBlock TransformerLayersPerBlock { get; init; } = PerBlock.Of(1);

    /// <summary>
    /// <c>attention_head_dim</c> (default 8). Despite its name diffusers uses it as the number of HEADS when
    /// <c>num_attention_heads</c> is null (a naming mistake kept for old configs): SD 1.x's 8 means 8 heads.
    /// </summary>
    public PerBlock AttentionHeadDim { get; init; } = PerBlock.Of(8);

    /// <summary>
    /// <c>num_attention_heads</c>: the real number of heads when set (default null → <see cref="AttentionHeadDim"/>).
    /// diffusers v0.21.4 itself refuses a non-null value; later versions use it as the head count, and so does this.
    /// </summary>
    public PerBlock? NumAttentionHeads { get; init; }

    /// <summary><c>use_linear_projection</c>: Linear instead of 1×1 conv <c>proj_in</c>/<c>proj_out</c> (SD 2.x; default false).</summary>
    public bool UseLinearProjection { get; init; }

    /// <summary><c>upcast_attention</c>: attention in float32 for half-precision inputs (SD 2.1; default false).</summary>
    public bool UpcastAttention { get; init; }

    /// <summary><c>resnet_time_scale_shift</c> (default and only supported value "default").</summary>
    public string ResnetTimeScaleShift { get; init; } = "default";

    /// <summary>Keys of the file that are not diffusers v0.21.4 UNet options and were ignored (diffusers ignores them too).</summary>
    public IReadOnlyList<string> IgnoredKeys { get; init; } = [];

    /// <summary>Number of down (and up) blocks.</summary>
    public int NumBlocks => BlockOutChannels.Count;

    /// <summary>Width of the time embedding: 4 × the first block's channels.</summary>
    public int TimeEmbedDim => 4 * BlockOutChannels[0];

    /// <summary>The number of upsamplers; inputs whose size is not a multiple of 2^this use size-matched upsampling.</summary>
    public int NumUpsamplers => NumBlocks - 1;

    /// <summary>Attention heads of down block <paramref name="block"/>: <c>num_attention_heads</c>, else <c>attention_head_dim</c>.</summary>
    public int HeadsAt(int block) => (NumAttentionHeads ?? AttentionHeadDim).At(block);

    /// <summary>
    /// The tiny UNet of diffusers' own pipeline tests (tests/data/stable-diffusion/tiny/unet/config.json): block channels
    /// (32, 64), cross-attention dimension 32, latent 32×32.
    /// </summary>
    public static UNet2DConditionConfig Tiny => new()
    {
        SampleSize = 32,
        BlockOutChannels = [32, 64],
        LayersPerBlock = PerBlock.Of(2),
        CrossAttentionDim = 32,
        AttentionHeadDim = PerBlock.Of(8),
        DownBlockTypes = [DownBlock, CrossAttnDownBlock],
        UpBlockTypes = [CrossAttnUpBlock, UpBlock],
        Source = "tiny UNet (diffusers' pipeline tests, built in code)",
    };

    /// <summary>The SD 1.5 UNet (runwayml/stable-diffusion-v1-5 <c>unet/config.json</c>).</summary>
    public static UNet2DConditionConfig StableDiffusion15 => new() { SampleSize = 64, CrossAttentionDim = 768, Source = "SD 1.5 UNet (built in code)" };

    /// <summary>The SD 2.1 UNet (stabilityai/stable-diffusion-2-1 <c>unet/config.json</c>).</summary>
    public static UNet2DConditionConfig StableDiffusion21 => new()
    {
        SampleSize = 96,
        CrossAttentionDim = 1024,
        AttentionHeadDim = PerBlock.List(5, 10, 20, 20),
        UseLinearProjection = true,
        UpcastAttention = true,
        Source = "SD 2.1 UNet (built in code)",
    };

    /// <summary>Reads and validates a diffusers UNet <c>config.json</c>.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="source">The file's path, for messages.</param>
    /// <exception cref="NotSupportedException">An architectural option is set to something these modules do not implement (the message names the key, value and file).</exception>
    /// <exception cref="InvalidDataException">Malformed or inconsistent values (the message names the key and file).</exception>
    public static UNet2DConditionConfig FromJson(string json, string source = "unet/config.json")
    {
        var j = new DiffusersConfigJson(json, source);
        var defaults = new UNet2DConditionConfig();
        // Options SD 1.x/2.x leave at their defaults; anything else changes the architecture.
        foreach (var key in new[]
        {
            "encoder_hid_dim", "encoder_hid_dim_type", "class_embed_type", "addition_embed_type", "addition_time_embed_dim",
            "num_class_embeds", "time_embedding_dim", "time_embedding_act_fn", "timestep_post_act", "time_cond_proj_dim",
            "projection_class_embeddings_input_dim", "cross_attention_norm", "reverse_transformer_layers_per_block",
        })
            j.RequireNull(key);
        j.RequireBool("dual_cross_attention", false);
        j.RequireBool("resnet_skip_time_act", false);
        j.RequireBool("class_embeddings_concat", false);
        j.RequireNumber("resnet_out_scale_factor", 1.0);
        j.RequireNumber("conv_in_kernel", 3);
        j.RequireNumber("conv_out_kernel", 3);
        j.RequireNumber("dropout", 0.0);
        j.RequireString("time_embedding_type", "positional");
        j.RequireString("attention_type", "default");
        j.RequireDefault("only_cross_attention", "false (or a list of false)",
            v => v.ValueKind == JsonValueKind.False || (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.False)));
        j.RequireDefault("mid_block_only_cross_attention", "null or false",
            v => v.ValueKind is JsonValueKind.Null or JsonValueKind.False);
        j.RequireDefault("cross_attention_dim", "a single integer (one width for every block)", v => v.ValueKind == JsonValueKind.Number);
        // Only used with addition_embed_type, which is rejected above unless null.
        j.Double("addition_embed_type_num_heads", 64);

        var config = new UNet2DConditionConfig
        {
            Source = source,
            SampleSize = j.NullableInt("sample_size", defaults.SampleSize),
            InChannels = j.Int("in_channels", defaults.InChannels),
            OutChannels = j.Int("out_channels", defaults.OutChannels),
            CenterInputSample = j.Bool("center_input_sample", defaults.CenterInputSample),
            FlipSinToCos = j.Bool("flip_sin_to_cos", defaults.FlipSinToCos),
            FreqShift = j.Int("freq_shift", defaults.FreqShift),
            DownBlockTypes = j.Strings("down_block_types", [.. defaults.DownBlockTypes]),
            MidBlockType = j.String("mid_block_type", defaults.MidBlockType) ?? "null",
            UpBlockTypes = j.Strings("up_block_types", [.. defaults.UpBlockTypes]),
            BlockOutChannels = j.Ints("block_out_channels", [.. defaults.BlockOutChannels]),
            LayersPerBlock = j.PerBlock("layers_per_block", defaults.LayersPerBlock)!,
            DownsamplePadding = j.Int("downsample_padding", defaults.DownsamplePadding),
            MidBlockScaleFactor = j.Double("mid_block_scale_factor", defaults.MidBlockScaleFactor),
            ActFn = j.String("act_fn", defaults.ActFn) ?? "null",
            NormNumGroups = j.NullableInt("norm_num_groups", defaults.NormNumGroups)
                ?? throw new NotSupportedException($"{source}: 'norm_num_groups' = null (no output normalisation) is not supported; these modules implement a GroupNorm count such as 32."),
            NormEps = j.Double("norm_eps", defaults.NormEps),
            CrossAttentionDim = j.Int("cross_attention_dim", defaults.CrossAttentionDim),
            TransformerLayersPerBlock = j.PerBlock("transformer_layers_per_block", defaults.TransformerLayersPerBlock)!,
            AttentionHeadDim = j.PerBlock("attention_head_dim", defaults.AttentionHeadDim)!,
            NumAttentionHeads = j.PerBlock("num_attention_heads", null),
            UseLinearProjection = j.Bool("use_linear_projection", defaults.UseLinearProjection),
            UpcastAttention = j.Bool("upcast_attention", defaults.UpcastAttention),
            ResnetTimeScaleShift = j.String("resnet_time_scale_shift", defaults.ResnetTimeScaleShift) ?? "null",
        };
        config = config with { IgnoredKeys = j.UnreadKeys };
        config.Validate();
        return config;
    }

    /// <summary>Reads and validates a diffusers UNet <c>config.json</c> file.</summary>
    public static UNet2DConditionConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Checks the configuration can be built: supported block types and options, positive sizes, per-block lists with
    /// one entry per block, channels divisible by the GroupNorm groups and by the attention heads.
    /// </summary>
    /// <exception cref="NotSupportedException">An unsupported block type or option value.</exception>
    /// <exception cref="InvalidDataException">An invalid or inconsistent value; the message names the key and <see cref="Source"/>.</exception>
    public void Validate()
    {
        string s = Source;
        if (ActFn is not ("silu" or "swish"))
            throw new NotSupportedException($"{s}: 'act_fn' = \"{ActFn}\" is not supported; these modules implement \"silu\" (as SD 1.x/2.x).");
        if (ResnetTimeScaleShift != "default")
            throw new NotSupportedException($"{s}: 'resnet_time_scale_shift' = \"{ResnetTimeScaleShift}\" is not supported; these modules implement \"default\".");
        if (MidBlockType != MidBlockCrossAttn)
            throw new NotSupportedException($"{s}: 'mid_block_type' = \"{MidBlockType}\" is not supported; these modules implement \"{MidBlockCrossAttn}\".");
        Positive("in_channels", InChannels);
        Positive("out_channels", OutChannels);
        Positive("norm_num_groups", NormNumGroups);
        Positive("cross_attention_dim", CrossAttentionDim);
        if (SampleSize is int size) Positive("sample_size", size);
        if (DownsamplePadding < 0) throw new InvalidDataException($"{s}: 'downsample_padding' must not be negative, got {DownsamplePadding}.");
        if (!(NormEps > 0)) throw new InvalidDataException($"{s}: 'norm_eps' must be positive, got {NormEps}.");
        if (!(MidBlockScaleFactor > 0)) throw new InvalidDataException($"{s}: 'mid_block_scale_factor' must be positive, got {MidBlockScaleFactor}.");
        int n = BlockOutChannels.Count;
        if (n == 0) throw new InvalidDataException($"{s}: 'block_out_channels' is empty.");
        if (DownBlockTypes.Count != n)
            throw new InvalidDataException($"{s}: 'down_block_types' has {DownBlockTypes.Count} entries but 'block_out_channels' has {n}; they must match.");
        if (UpBlockTypes.Count != n)
            throw new InvalidDataException($"{s}: 'up_block_types' has {UpBlockTypes.Count} entries but 'down_block_types' has {n}; they must match.");
        foreach (var t in DownBlockTypes)
            if (t is not (DownBlock or CrossAttnDownBlock))
                throw new NotSupportedException($"{s}: 'down_block_types' contains \"{t}\", which is not supported; these modules implement \"{CrossAttnDownBlock}\" and \"{DownBlock}\".");
        foreach (var t in UpBlockTypes)
            if (t is not (UpBlock or CrossAttnUpBlock))
                throw new NotSupportedException($"{s}: 'up_block_types' contains \"{t}\", which is not supported; these modules implement \"{CrossAttnUpBlock}\" and \"{UpBlock}\".");
        LayersPerBlock.Validate("layers_per_block", n, s);
        TransformerLayersPerBlock.Validate("transformer_layers_per_block", n, s);
        AttentionHeadDim.Validate("attention_head_dim", n, s);
        NumAttentionHeads?.Validate("num_attention_heads", n, s);
        string headsKey = NumAttentionHeads is null ? "attention_head_dim" : "num_attention_heads";
        for (int i = 0; i < n; i++)
        {
            int c = BlockOutChannels[i];
            if (c <= 0) throw new InvalidDataException($"{s}: 'block_out_channels' must be positive, got [{string.Join(", ", BlockOutChannels)}].");
            if (c % NormNumGroups != 0)
                throw new InvalidDataException($"{s}: 'block_out_channels' entry {c} is not divisible by 'norm_num_groups' = {NormNumGroups}.");
            // Down block i, up block n-1-i (same channels, same heads after diffusers' reversal) and, for the last
            // level, the mid block split their channels into this many heads.
            bool attends = DownBlockTypes[i] == CrossAttnDownBlock || UpBlockTypes[n - 1 - i] == CrossAttnUpBlock || i == n - 1;
            if (attends && c % HeadsAt(i) != 0)
                throw new InvalidDataException($"{s}: block {i} has {c} channels, not divisible into {HeadsAt(i)} heads ('{headsKey}' = {NumAttentionHeads ?? AttentionHeadDim}).");
        }
        if (BlockOutChannels[0] / 2 == FreqShift)
            throw new InvalidDataException($"{s}: 'freq_shift' = {FreqShift} equals half of block_out_channels[0]; the timestep frequencies would divide by zero.");
    }

    private void Positive(string key, int value)
    {
        if (value <= 0) throw new InvalidDataException($"{Source}: '{key}' must be positive, got {value}.");
    }
}
