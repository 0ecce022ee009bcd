using System.Text.Json.Serialization;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>Named sizes of the rarity Vision Transformer. Measured speed and accuracy are in docs/reward.md.</summary>
public enum VitPreset
{
    /// <summary>For tests: width 32, 2 blocks, 2 heads, MLP 2×, convolutional stem to 8×8 patches (about 24 k parameters).</summary>
    Tiny,
    /// <summary>
    /// The CPU default: width 128, 4 blocks, 4 heads, MLP 2×, convolutional stem to 8×8 patches — 16 tokens for a 32×32
    /// image, 25 for 36×36 — about 0.63 M parameters. Per training step it learned the built-in collection's rarity as
    /// fast as 4×4 patches (64 tokens) and ran about 3.5× as many steps per second.
    /// </summary>
    Small,
    /// <summary>For GPUs: width 192, 6 blocks, 6 heads, MLP 4×, convolutional stem to 4×4 patches (about 2.85 M parameters).</summary>
    Base,
}

/// <summary>How the transformer's token sequence becomes one embedding vector.</summary>
public enum VitPooling
{
    /// <summary>The mean of the patch tokens (no class token). Slightly faster to train on small data.</summary>
    Mean,
    /// <summary>A learned class token prepended to the patches; its final state is the embedding.</summary>
    ClassToken,
}

/// <summary>How image patches become tokens.</summary>
public enum VitPatchEmbedding
{
    /// <summary>The original ViT: one linear map of each non-overlapping P×P patch (a P×P convolution with stride P).</summary>
    Linear,
    /// <summary>
    /// A convolutional stem (Xiao et al., "Early convolutions help transformers see better", 2021): log2(P) 3×3
    /// convolutions of stride 2 with GELU between them, widening to the token width. Each token still covers a P×P
    /// patch, but the stem sees across patch borders and learns small parts much faster from little data.
    /// P must be a power of two; the side need not be a multiple of P (the grid is ⌈S / P⌉ per side).
    /// </summary>
    Convolutional,
}

/// <summary>
/// The architecture of the rarity Vision Transformer: square images cut into square patches, a linear patch embedding,
/// learned position embeddings, pre-LN transformer blocks, a final LayerNorm and a pooled embedding. The defaults are
/// the <see cref="VitPreset.Small"/> preset.
/// </summary>
public sealed record VitOptions
{
    /// <summary>
    /// Side of the square input in pixels. Images of any other size are resized to it by
    /// <see cref="RewardPreprocessing.Prepare"/> (the one preprocessing function). Must be a multiple of <see cref="PatchSize"/>.
    /// </summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>Side of the square patches: 8 gives 16 tokens for a 32×32 image, 4 gives 64.</summary>
    public int PatchSize { get; init; } = 8;

    /// <summary>Token width (the embedding size).</summary>
    public int Dim { get; init; } = 128;

    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; init; } = 4;

    /// <summary>Attention heads per block; <see cref="Dim"/> must be a multiple of it.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Hidden width of each block's MLP as a multiple of <see cref="Dim"/>.</summary>
    public int MlpRatio { get; init; } = 2;

    /// <summary>How patches become tokens: a convolutional stem (default) or the original linear patch embedding.</summary>
    public VitPatchEmbedding PatchEmbedding { get; init; } = VitPatchEmbedding.Convolutional;

    /// <summary>Mean pooling (default) or a class token.</summary>
    public VitPooling Pooling { get; init; } = VitPooling.Mean;

    /// <summary>Number of patch tokens per image.</summary>
    [JsonIgnore]
    public int PatchCount => GridSide * GridSide;

    /// <summary>Tokens per side of the token grid: S / P, or ⌈S / P⌉ with the convolutional stem.</summary>
    [JsonIgnore]
    public int GridSide => PatchEmbedding == VitPatchEmbedding.Convolutional ? (ImageSize + PatchSize - 1) / PatchSize : ImageSize / PatchSize;

    /// <summary>The number of stride-2 convolutions of the convolutional stem: log2 of the patch size.</summary>
    [JsonIgnore]
    internal int StemLayers => System.Numerics.BitOperations.Log2((uint)PatchSize);

    /// <summary>The options of a named preset (at the default 32×32 input; see <see cref="ForImageSize"/> for others).</summary>
    public static VitOptions For(VitPreset preset) => preset switch
    {
        VitPreset.Tiny => new VitOptions { Dim = 32, Depth = 2, Heads = 2, MlpRatio = 2 },
        VitPreset.Small => new VitOptions(),
        VitPreset.Base => new VitOptions { Dim = 192, Depth = 6, Heads = 6, MlpRatio = 4, PatchSize = 4 },
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "Unknown ViT preset."),
    };

    /// <summary>
    /// These options at input side <paramref name="size"/>. The convolutional stem takes any side (36×36 CrypToadz with
    /// 8×8 patches gives a 5×5 grid). The linear patch embedding needs the patch size to divide the side: when it does
    /// not, it is replaced by the divisor of the side nearest to it (the larger on a tie), so the token grid stays about
    /// the same (8×8 patches at 36×36 become 9×9, again a 4×4 grid).
    /// </summary>
    public VitOptions ForImageSize(int size)
    {
        if (size is < 1 or > 512) throw new ArgumentOutOfRangeException(nameof(size), size, "The image side must lie in 1 … 512.");
        int patch = PatchSize;
        if (size % patch != 0 && PatchEmbedding == VitPatchEmbedding.Linear)
            patch = Enumerable.Range(1, size).Where(d => size % d == 0)
                .OrderBy(d => Math.Abs(d - PatchSize)).ThenByDescending(d => d).First();
        return this with { ImageSize = size, PatchSize = patch };
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Dim is < 1 or > 2048) throw new ArgumentException($"Dim must lie in 1 … 2048, got {Dim}.");
        if (PatchSize is < 1 or > 32) throw new ArgumentException($"PatchSize must lie in 1 … 32, got {PatchSize}.");
        // Upper bounds guard against absurd sizes read from a corrupted model file allocating gigabytes before shape checks.
        if (ImageSize < PatchSize || ImageSize > 512)
            throw new ArgumentException($"ImageSize must lie in PatchSize ({PatchSize}) … 512, got {ImageSize}.");
        if (!Enum.IsDefined(PatchEmbedding)) throw new ArgumentException($"Unknown PatchEmbedding {PatchEmbedding}.");
        if (PatchEmbedding == VitPatchEmbedding.Linear && ImageSize % PatchSize != 0)
            throw new ArgumentException($"ImageSize {ImageSize} must be a multiple of PatchSize {PatchSize} with the linear patch embedding.");
        if (PatchEmbedding == VitPatchEmbedding.Convolutional && (PatchSize < 2 || (PatchSize & (PatchSize - 1)) != 0))
            throw new ArgumentException($"PatchSize {PatchSize} must be a power of two (2, 4, 8, …) with the convolutional patch embedding.");
        if (PatchEmbedding == VitPatchEmbedding.Convolutional && Dim >> StemLayers < 1)
            throw new ArgumentException($"Dim {Dim} is too small for a {StemLayers}-layer convolutional stem (it halves the width per layer).");
        if (PatchCount > 4096) throw new ArgumentException($"{PatchCount} patches per image is over the supported 4096; use larger patches.");
        if (Depth is < 1 or > 48) throw new ArgumentException($"Depth must lie in 1 … 48, got {Depth}.");
        if (Heads < 1 || Dim % Heads != 0) throw new ArgumentException($"Heads must be positive and divide Dim ({Dim}), got {Heads}.");
        if (MlpRatio is < 1 or > 16) throw new ArgumentException($"MlpRatio must lie in 1 … 16, got {MlpRatio}.");
        if (!Enum.IsDefined(Pooling)) throw new ArgumentException($"Unknown Pooling {Pooling}.");
    }
}
