using Microsoft.ML.DiffNft.StableDiffusion.Modules;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Latent diffusion from scratch (<see cref="DiffusionTrainerOptions.Latent"/>): a VAE in diffusers' <c>AutoencoderKL</c>
/// structure is trained on the collection first, then the UNet learns the distribution of its latents, which are
/// <see cref="DownscaleFactor"/> times smaller on each side. Generation decodes the UNet's samples with the VAE. This is
/// how images above 64 px stay trainable on a CPU: the UNet's cost is that of its latent size, and the VAE runs once per
/// image.
/// </summary>
/// <remarks>
/// The VAE loss is Stable Diffusion's without its perceptual and adversarial terms: the mean absolute pixel error (flat
/// pixel-art colours are reproduced exactly by L1, blurred by L2) plus <see cref="KlWeight"/> times the posterior's KL
/// divergence to N(0, I), summed over the latent and divided by the pixel count — the weight means what Stable
/// Diffusion's 1e-6 means. The latents the UNet sees are the posterior means scaled to unit standard deviation over the
/// collection (the scale is stored as the VAE's <c>scaling_factor</c>).
/// </remarks>
public sealed record LatentOptions
{
    /// <summary>
    /// <c>block_out_channels</c> of the VAE: one entry per resolution, each level after the first halving the side, so
    /// the latent is 2^(entries − 1) times smaller (default 16, 32, 64: 4×, a 128×128 image becomes 4 × 32×32).
    /// </summary>
    public int[] BlockChannels { get; init; } = { 16, 32, 64 };

    /// <summary><c>layers_per_block</c>: residual blocks per encoder level (the decoder has one more).</summary>
    public int LayersPerBlock { get; init; } = 1;

    /// <summary><c>latent_channels</c>: channels of the latent the UNet denoises.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary><c>norm_num_groups</c>: GroupNorm groups; must divide every entry of <see cref="BlockChannels"/>.</summary>
    public int Groups { get; init; } = 8;

    /// <summary>Weight of the KL term against the per-pixel L1 error (Stable Diffusion's VAE: 1e-6).</summary>
    public double KlWeight { get; init; } = 1e-6;

    /// <summary>Images per VAE training step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// The VAE trains on random square crops of this side (at offsets that are multiples of
    /// <see cref="DownscaleFactor"/>, so a crop's latent grid is the whole image's), which makes a step several times
    /// cheaper at the same number of images: the network is convolutional, so it learns the same map from crops. 0, or a
    /// side at least the image's, trains on whole images. Must be a multiple of <see cref="DownscaleFactor"/>.
    /// </summary>
    public int CropSize { get; init; } = 32;

    /// <summary>Adam learning rate of the VAE (100 warm-up steps, then a cosine decay to 5 % at the end of the budget).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>VAE training steps at most.</summary>
    public int MaxSteps { get; init; } = 4000;

    /// <summary>
    /// The share of <see cref="DiffusionTrainerOptions.MaxTime"/> the VAE may use; the UNet gets the rest. Without a time
    /// budget the VAE trains <see cref="MaxSteps"/> steps.
    /// </summary>
    public double TimeFraction { get; init; } = 0.3;

    /// <summary>How many times smaller each side of the latent is than the image: 2^(levels − 1).</summary>
    public int DownscaleFactor => 1 << (BlockChannels.Length - 1);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BlockChannels is null || BlockChannels.Length is < 1 or > 5)
            throw new ArgumentException($"{nameof(BlockChannels)} must have 1 to 5 entries (a downscale factor of 1 to 16).");
        foreach (int c in BlockChannels)
            if (c < 1 || c > 1024 || Groups < 1 || c % Groups != 0)
                throw new ArgumentException($"{nameof(BlockChannels)} entry {c} must lie in 1 … 1024 and be a multiple of {nameof(Groups)} = {Groups}.");
        if (LayersPerBlock is < 1 or > 8) throw new ArgumentException($"{nameof(LayersPerBlock)} must lie in 1 … 8, got {LayersPerBlock}.");
        if (LatentChannels is < 1 or > 4)
            throw new ArgumentException($"{nameof(LatentChannels)} must lie in 1 … 4 (the UNet's input channels), got {LatentChannels}.");
        if (!(KlWeight >= 0 && KlWeight <= 1)) throw new ArgumentException($"{nameof(KlWeight)} must lie in [0, 1], got {KlWeight}.");
        if (BatchSize < 1) throw new ArgumentException($"{nameof(BatchSize)} must be positive, got {BatchSize}.");
        if (CropSize < 0 || CropSize % DownscaleFactor != 0)
            throw new ArgumentException($"{nameof(CropSize)} must be 0 (whole images) or a positive multiple of the downscale factor {DownscaleFactor}, got {CropSize}.");
        if (!(LearningRate > 0 && LearningRate <= 1)) throw new ArgumentException($"{nameof(LearningRate)} must lie in (0, 1], got {LearningRate}.");
        if (MaxSteps < 1) throw new ArgumentException($"{nameof(MaxSteps)} must be positive, got {MaxSteps}.");
        if (!(TimeFraction > 0 && TimeFraction < 1)) throw new ArgumentException($"{nameof(TimeFraction)} must lie in (0, 1), got {TimeFraction}.");
    }

    /// <summary>The diffusers VAE config for images of <paramref name="imageSize"/> pixels, with scaling factor 1 until training measures it.</summary>
    internal AutoencoderKLConfig ToConfig(int imageSize) => new()
    {
        Source = "DiffNft latent model",
        BlockOutChannels = BlockChannels.ToArray(),
        DownBlockTypes = Enumerable.Repeat(AutoencoderKLConfig.DownEncoderBlock, BlockChannels.Length).ToArray(),
        UpBlockTypes = Enumerable.Repeat(AutoencoderKLConfig.UpDecoderBlock, BlockChannels.Length).ToArray(),
        LayersPerBlock = LayersPerBlock,
        LatentChannels = LatentChannels,
        NormNumGroups = Groups,
        SampleSize = imageSize,
        ScalingFactor = 1.0,
    };
}
