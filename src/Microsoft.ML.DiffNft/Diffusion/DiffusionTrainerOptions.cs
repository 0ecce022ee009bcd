using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>One progress report of diffusion training.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Step budget (or the current step when training is limited by time only).</param>
/// <param name="Loss">Mean loss since the previous report.</param>
/// <param name="Elapsed">Wall time since training (or resuming) started.</param>
/// <param name="Phase">What is training: "unet" (the denoiser), or "vae" (the autoencoder of a latent model, first).</param>
public sealed record DiffusionTrainingProgress(int Step, int TotalSteps, double Loss, TimeSpan Elapsed, string Phase = "unet");

/// <summary>Options of <see cref="DiffusionTrainer"/> and of <c>mlContext.Transforms.DiffNft.TrainDiffusion</c>.</summary>
public sealed record DiffusionTrainerOptions
{
    /// <summary>Name of the image column (MLImage or a text path) when training from an <c>IDataView</c>.</summary>
    public string ImageColumnName { get; init; } = "Image";

    /// <summary>Name of the caption (prompt) column when training from an <c>IDataView</c>.</summary>
    public string CaptionColumnName { get; init; } = "Caption";

    /// <summary>Model size; ignored when <see cref="UNet"/> is set.</summary>
    public DiffusionPreset Preset { get; init; } = DiffusionPreset.Small;

    /// <summary>An explicit architecture instead of a preset.</summary>
    public UNetOptions? UNet { get; init; }

    /// <summary>
    /// Null (default): the UNet denoises pixels. Set: latent diffusion — a VAE is trained on the images first and the UNet
    /// (the preset's shape at the latent size, with <see cref="LatentOptions.LatentChannels"/> channels) on its latents;
    /// the way to images above 64 px on a CPU.
    /// </summary>
    public LatentOptions? Latent { get; init; }

    /// <summary>What the network predicts: v (default) learns pixel art much faster than ε at CPU budgets.</summary>
    public PredictionType Prediction { get; init; } = PredictionType.V;

    /// <summary>Noise schedule shape.</summary>
    public NoiseScheduleKind Schedule { get; init; } = NoiseScheduleKind.Linear;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// How the learning rate evolves: <see cref="LearningRateSchedule.Cosine"/> (default) warms up linearly over
    /// <see cref="WarmupSteps"/> and then decays along a half cosine to <see cref="FinalLearningRateFraction"/> of
    /// <see cref="LearningRate"/> at the end of the budget (steps, or wall time when <see cref="MaxTime"/> comes first).
    /// Annealing to a small rate at the end of a fixed budget is worth far more than its cost at CPU budgets.
    /// </summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>Steps of linear learning-rate warm-up (both schedules).</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>The cosine schedule's final learning rate as a fraction of <see cref="LearningRate"/>.</summary>
    public double FinalLearningRateFraction { get; init; } = 0.05;

    /// <summary>
    /// Min-SNR-γ loss weighting (Hang et al., 2023): each sample's loss is weighted by min(SNR_t, γ)/(SNR_t + 1) for
    /// v-prediction (min(SNR_t, γ)/SNR_t for ε), which stops the nearly clean, easy timesteps from dominating the
    /// gradient. 0 disables it (plain MSE).
    /// </summary>
    public double MinSnrGamma { get; init; } = 5.0;

    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Global gradient-norm clip (0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>EMA decay of the weights the returned model uses (warmed up as min(decay, (1+s)/(10+s))).</summary>
    public double EmaDecay { get; init; } = 0.999;

    /// <summary>Probability of replacing a caption by the empty prompt, which trains the unconditional branch for guidance.</summary>
    public double ConditionDropout { get; init; } = 0.1;

    /// <summary>
    /// Probability of leaving out each comma-separated phrase of a caption after the first (the subject, e.g. "a noun").
    /// Captions name every trait, so without this a prompt that names only some traits — or none, like "a noun" — is
    /// outside the training distribution and collapses onto the most common traits; with it, omitted traits stay free.
    /// </summary>
    public double PromptPhraseDropout { get; init; } = 0.5;

    /// <summary>Step budget. Training stops at whichever of <see cref="MaxSteps"/> and <see cref="MaxTime"/> comes first.</summary>
    public int MaxSteps { get; init; } = 2000;

    /// <summary>Wall-time budget (null: steps only). Time-limited runs are not reproducible step for step; step budgets are.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>Write a checkpoint every this many steps (0: only at the end when <see cref="CheckpointPath"/> is set).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Checkpoint file; when it exists and <see cref="Resume"/> is true, training continues from it bit for bit.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Resume from <see cref="CheckpointPath"/> when it exists.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>
    /// Seed of every random choice (initial weights, batches, timesteps, noise, condition dropout). Null (default): the
    /// context's seed through <c>mlContext.Transforms.DiffNft.TrainDiffusion</c>, 0 when <see cref="DiffusionTrainer"/> is used directly.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>The seed used: <see cref="Seed"/>, or 0 when unset.</summary>
    internal int EffectiveSeed => Seed ?? ContextSeed.EngineDefault;

    /// <summary>Device.</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;

    /// <summary>Steps between progress reports.</summary>
    public int ReportEvery { get; init; } = 50;

    /// <summary>Receives progress reports.</summary>
    public IProgress<DiffusionTrainingProgress>? Progress { get; init; }

    /// <summary>Stops training (a checkpoint is written first when a path is set).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// The architecture to train: <see cref="UNet"/> when set; otherwise the preset, at the collection's image size when
    /// one is given (a preset is a network shape, not a resolution: CrypToadz' 36×36 art trains at 36×36, undistorted).
    /// With <see cref="Latent"/> the preset runs at the latent size (the image's over the VAE's downscale factor) with
    /// the latent's channels.
    /// </summary>
    /// <param name="imageSize">The side of the collection's square images; null for the preset's own 32.</param>
    public UNetOptions ResolveUNet(int? imageSize = null)
    {
        if (UNet is not null) return UNet;
        var preset = UNetOptions.For(Preset);
        if (Latent is null) return imageSize is { } side ? preset with { ImageSize = side } : preset;
        int factor = Latent.DownscaleFactor;
        return preset with { ImageSize = (imageSize ?? preset.ImageSize * factor) / factor, ImageChannels = Latent.LatentChannels };
    }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be positive.");
        // 1 is already far above any rate that trains (AdamW at 1e-3 is the default); 1e30 only diverges.
        if (!(LearningRate > 0 && LearningRate <= 1)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must lie in (0, 1].");
        if (MaxTime is { } time && time <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(MaxTime), time, "Must be positive (null for no time limit): a zero budget would save an untrained model.");
        if (EmaDecay is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "Must lie in [0, 1).");
        if (ConditionDropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ConditionDropout), ConditionDropout, "Must lie in [0, 1].");
        if (PromptPhraseDropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(PromptPhraseDropout), PromptPhraseDropout, "Must lie in [0, 1].");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be non-negative.");
        if (FinalLearningRateFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(FinalLearningRateFraction), FinalLearningRateFraction, "Must lie in [0, 1].");
        if (MinSnrGamma < 0 || double.IsNaN(MinSnrGamma)) throw new ArgumentOutOfRangeException(nameof(MinSnrGamma), MinSnrGamma, "Must be non-negative (0 disables the weighting).");
        if (MaxSteps < 1) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "Must be positive.");
        if (CheckpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "Must be non-negative.");
        if (ReportEvery < 1) throw new ArgumentOutOfRangeException(nameof(ReportEvery), ReportEvery, "Must be positive.");
        Latent?.Validate();
        ResolveUNet().Validate();
    }
}
