namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>Named model sizes. State parameters and FLOPs per image for each are in docs/performance.md.</summary>
public enum DiffusionPreset
{
    /// <summary>For tests: 8-16 channels at 32×32, a one-layer prompt encoder (tens of thousands of parameters).</summary>
    Tiny,
    /// <summary>
    /// The CPU default: 2×2 pixel patches, 64-128 channels at 16×16 and 8×8, one residual block per level (about 3 M
    /// parameters, ~0.5 GFLOP per image; ~70 % of the 2-core matmul rate when training).
    /// </summary>
    Small,
    /// <summary>For GPUs: 2×2 patches, 128-256-256 channels, two residual blocks per level.</summary>
    Base,
}

/// <summary>The architecture of the conditional UNet and its prompt encoder; the defaults are the Small preset.</summary>
public sealed record UNetOptions
{
    /// <summary>Image side in pixels (square images). Must be divisible by 2^(levels−1).</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>Image channels (3: RGB).</summary>
    public int ImageChannels { get; init; } = 3;

    /// <summary>
    /// Side of the square pixel patches folded into channels before the first convolution (pixel unshuffle) and unfolded
    /// after the last (pixel shuffle). 2 runs the whole network at half resolution with 4× the input channels: on a CPU
    /// that turns memory-bound 32×32 feature maps with few channels into compute-bound ones, and loses no pixel detail.
    /// </summary>
    public int PatchSize { get; init; } = 2;

    /// <summary>Channels of the first level.</summary>
    public int BaseChannels { get; init; } = 64;

    /// <summary>Channel multiplier per level; the number of entries is the number of resolutions.</summary>
    public int[] ChannelMultipliers { get; init; } = { 1, 2 };

    /// <summary>Residual blocks per level on the way down (the way up has one more, for the skip connection).</summary>
    public int ResBlocksPerLevel { get; init; } = 1;

    /// <summary>Attention heads in the attention blocks.</summary>
    public int AttentionHeads { get; init; } = 4;

    /// <summary>GroupNorm groups.</summary>
    public int Groups { get; init; } = 8;

    /// <summary>Width of the prompt encoder.</summary>
    public int TextDim { get; init; } = 64;

    /// <summary>Transformer layers of the prompt encoder.</summary>
    public int TextLayers { get; init; } = 2;

    /// <summary>Heads of the prompt encoder.</summary>
    public int TextHeads { get; init; } = 4;

    /// <summary>Longest prompt in tokens; longer prompts are truncated.</summary>
    public int MaxTokens { get; init; } = 32;

    /// <summary>The options of a named preset.</summary>
    public static UNetOptions For(DiffusionPreset preset) => preset switch
    {
        DiffusionPreset.Tiny => new UNetOptions
        {
            PatchSize = 1, BaseChannels = 8, ChannelMultipliers = new[] { 1, 2, 2 }, AttentionHeads = 2, Groups = 4,
            TextDim = 16, TextLayers = 1, TextHeads = 2, MaxTokens = 24,
        },
        DiffusionPreset.Small => new UNetOptions(),
        DiffusionPreset.Base => new UNetOptions
        {
            PatchSize = 2, BaseChannels = 128, ChannelMultipliers = new[] { 1, 2, 2 }, ResBlocksPerLevel = 2, AttentionHeads = 8,
            Groups = 32, TextDim = 128, TextLayers = 4, TextHeads = 4,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Unknown preset."),
    };

    /// <summary>What <see cref="ImageSize"/> must be a multiple of: the patch size, doubled for each level below the first.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int SizeDivisor => PatchSize << (ChannelMultipliers.Length - 1);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (TextLayers < 0 || AttentionHeads < 1 || TextHeads < 1 || Groups < 1) throw new ArgumentException("TextLayers, AttentionHeads, TextHeads and Groups must be positive.");
        if (ImageSize < 4) throw new ArgumentException($"ImageSize must be at least 4, got {ImageSize}.");
        if (ChannelMultipliers is null || ChannelMultipliers.Length == 0) throw new ArgumentException("ChannelMultipliers must have at least one entry.");
        if (PatchSize is < 1 or > 8) throw new ArgumentException($"PatchSize must lie in 1 … 8, got {PatchSize}.");
        int factor = SizeDivisor;
        if (ImageSize % factor != 0)
            throw new ArgumentException($"ImageSize {ImageSize} must be divisible by {factor} (PatchSize {PatchSize}, {ChannelMultipliers.Length} levels).");
        if (BaseChannels <= 0 || ChannelMultipliers.Any(m => m <= 0)) throw new ArgumentException("Channel counts must be positive.");
        // Upper bounds guard against absurd sizes from a corrupted model file allocating gigabytes before shape checks.
        if (ImageSize > 1024 || BaseChannels > 1024 || ChannelMultipliers.Length > 8 || ChannelMultipliers.Any(m => m > 16)
            || TextDim > 4096 || TextLayers > 64 || MaxTokens > 1024 || ResBlocksPerLevel > 16 || ImageChannels is < 1 or > 4)
            throw new ArgumentException("The architecture is outside the supported range (ImageSize ≤ 1024, BaseChannels ≤ 1024, ≤ 8 levels, multipliers ≤ 16, TextDim ≤ 4096, TextLayers ≤ 64, MaxTokens ≤ 1024, ResBlocksPerLevel ≤ 16, 1–4 image channels).");
        foreach (int m in ChannelMultipliers)
            if (BaseChannels * m % Groups != 0)
                throw new ArgumentException($"Channels {BaseChannels * m} are not a multiple of Groups = {Groups}.");
        if (BaseChannels * ChannelMultipliers[^1] % AttentionHeads != 0)
            throw new ArgumentException($"The lowest-resolution width {BaseChannels * ChannelMultipliers[^1]} is not a multiple of AttentionHeads = {AttentionHeads}.");
        if (TextDim % TextHeads != 0) throw new ArgumentException($"TextDim {TextDim} is not a multiple of TextHeads {TextHeads}.");
        if (ResBlocksPerLevel < 1) throw new ArgumentException("ResBlocksPerLevel must be at least 1.");
        if (MaxTokens < 2) throw new ArgumentException("MaxTokens must be at least 2.");
    }
}
