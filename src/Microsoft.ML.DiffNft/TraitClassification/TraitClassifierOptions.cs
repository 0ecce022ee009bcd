using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>One progress report of trait classifier training.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Step budget from <see cref="TraitClassifierOptions.Epochs"/> (training may stop earlier on <see cref="TraitClassifierOptions.MaxTime"/>).</param>
/// <param name="Epoch">Epochs completed, fractional (training images seen / training tokens).</param>
/// <param name="Loss">Mean training loss since the previous report (real images and outliers together).</param>
/// <param name="Accuracy">Share of correct head predictions on the real training images of those steps (before the step's update).</param>
/// <param name="Elapsed">Wall time since training started.</param>
public sealed record TraitClassifierTrainingProgress(int Step, int TotalSteps, double Epoch, double Loss, double Accuracy, TimeSpan Elapsed);

/// <summary>
/// Options of <see cref="TraitClassifierTrainer"/>. The defaults are the CPU recipe measured on CrypToadz
/// (docs/evaluation.md, "Collections without parts").
/// </summary>
public sealed record TraitClassifierOptions
{
    /// <summary>
    /// Side of the square network input. Null (default): the training images' side when they are square and at most 64
    /// pixels (CrypToadz' 36×36 stays 36×36, with no resampling), otherwise 64. Other sizes are resampled
    /// (bilinear with antialiasing) when training and when classifying.
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>
    /// Channels of the first convolution stage; the second and third stages have 2× and 4× as many. 16 (default) gives
    /// about 0.58 M parameters at 36×36 and, on CrypToadz with one CPU thread, ran 3–4× as many steps per second as 32
    /// and reached a higher held-out accuracy in the same 4 minutes (docs/evaluation.md).
    /// </summary>
    public int Width { get; init; } = 16;

    /// <summary>Width of the hidden layer between the convolutional features and the per-trait heads.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>
    /// Share of tokens held out: never trained on, and the tokens the metrics (<see cref="TraitClassifierMetrics"/>) are
    /// measured on. Chosen by a seeded hash of the token id, so a token keeps its side when the collection is reordered.
    /// </summary>
    public double HoldoutFraction { get; init; } = 0.2;

    /// <summary>Passes over the training tokens. Training stops at whichever of <see cref="Epochs"/> and <see cref="MaxTime"/> comes first.</summary>
    public double Epochs { get; init; } = 30;

    /// <summary>Wall-time budget (null: epochs only). Time-limited runs are not reproducible step for step.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>Real images per step (the outliers of <see cref="OutlierFraction"/> come on top).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak AdamW learning rate (after a linear warm-up; then cosine decay to a tenth over the budget).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Steps of linear learning-rate warm-up.</summary>
    public int WarmupSteps { get; init; } = 50;

    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Global gradient-norm clip (0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>
    /// Largest random translation in pixels (edges replicated) of training images; 0 disables it. Translation is the only
    /// augmentation because colour, flips, crops and scale can all change a trait (a background colour, a size trait,
    /// the side a part sits on).
    /// </summary>
    public int MaxShift { get; init; } = 1;

    /// <summary>
    /// Outlier exposure: per step, this many outlier images per real image (rounded; at least one when positive) are
    /// added — pixel noise, a real image with its pixels shuffled, and the 50/50 blend of two real images — with the
    /// target "no class is likely" (cross-entropy to the uniform distribution of every head). It teaches the heads to be
    /// unsure off the collection's design space, which is what lets <see cref="TraitClassifierDecoder"/> call garbage
    /// undecodable; a plain softmax classifier is often confidently wrong on noise. 0 disables it.
    /// </summary>
    public double OutlierFraction { get; init; } = 0.25;

    /// <summary>Weight of the outlier loss beside the classification loss.</summary>
    public double OutlierWeight { get; init; } = 0.5;

    /// <summary>
    /// Whether numeric trait types (a JSON number in any token, such as CrypToadz' <c># Traits</c>) get a head. False
    /// (default): OpenRarity does not score numeric traits, so the rarity metrics never use them.
    /// </summary>
    public bool IncludeNumericTraits { get; init; }

    /// <summary>
    /// The confidence threshold at which the held-out decodable rate in the metrics is measured (the decoder's own
    /// threshold is set on <see cref="TraitClassifierDecoder"/>; its default is the same 0.5).
    /// </summary>
    public double ConfidenceThreshold { get; init; } = TraitClassifierDecoder.DefaultConfidenceThreshold;

    /// <summary>Seed of every random choice (initial weights, split, batches, shifts, outliers). Null (default): 0.</summary>
    public int? Seed { get; init; }

    /// <summary>The seed used: <see cref="Seed"/>, or 0 when unset.</summary>
    internal int EffectiveSeed => Seed ?? ContextSeed.EngineDefault;

    /// <summary>Device.</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;

    /// <summary>Steps between progress reports.</summary>
    public int ReportEvery { get; init; } = 50;

    /// <summary>Receives progress reports.</summary>
    public IProgress<TraitClassifierTrainingProgress>? Progress { get; init; }

    /// <summary>Stops training between steps with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>The network input side for training images of the given size (see <see cref="ImageSize"/>).</summary>
    public int ResolveImageSize(int imageWidth, int imageHeight) =>
        ImageSize ?? (imageWidth == imageHeight && imageWidth <= 64 ? imageWidth : 64);

    // The most passes accepted: 10,000 over even a 10,000-token collection is days on a CPU; a time budget is MaxTime.
    internal const double MaxEpochs = 10_000;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (ImageSize is { } s && s is < 8 or > 256) throw new ArgumentOutOfRangeException(nameof(ImageSize), s, "Must lie in 8 … 256.");
        if (Width is < 4 or > 256 || Width % 4 != 0) throw new ArgumentOutOfRangeException(nameof(Width), Width, "Must be a multiple of 4 in 4 … 256.");
        if (HiddenSize is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "Must lie in 1 … 4096.");
        if (!(HoldoutFraction > 0 && HoldoutFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(HoldoutFraction), HoldoutFraction, "Must lie in (0, 1).");
        if (!(Epochs > 0 && Epochs <= MaxEpochs)) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"Must lie in (0, {MaxEpochs:N0}]; MaxTime bounds a run by time.");
        if (MaxTime is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxTime), t, "Must be positive.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be positive.");
        if (!(LearningRate > 0 && LearningRate <= 1)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must lie in (0, 1]: a larger step diverges at once.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be non-negative.");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be non-negative.");
        if (!(GradientClip >= 0)) throw new ArgumentOutOfRangeException(nameof(GradientClip), GradientClip, "Must be non-negative.");
        if (MaxShift is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxShift), MaxShift, "Must lie in 0 … 8.");
        if (!(OutlierFraction >= 0 && OutlierFraction <= 4)) throw new ArgumentOutOfRangeException(nameof(OutlierFraction), OutlierFraction, "Must lie in 0 … 4.");
        if (!(OutlierWeight >= 0) || double.IsInfinity(OutlierWeight)) throw new ArgumentOutOfRangeException(nameof(OutlierWeight), OutlierWeight, "Must be non-negative and finite.");
        if (!(ConfidenceThreshold >= 0 && ConfidenceThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(ConfidenceThreshold), ConfidenceThreshold, "Must lie in [0, 1].");
        if (ReportEvery < 1) throw new ArgumentOutOfRangeException(nameof(ReportEvery), ReportEvery, "Must be positive.");
        if (!Enum.IsDefined(Device)) throw new ArgumentOutOfRangeException(nameof(Device), Device, "Unknown device.");
    }
}
