using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>One progress report of rarity reward training.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Step budget (int.MaxValue when training is limited by time only).</param>
/// <param name="Loss">Mean training loss since the previous report.</param>
/// <param name="ValidationLoss">The early-stopping criterion on the validation split at the latest evaluation: MSE of the z-score plus the log loss of the calibrated rare probability (null before the first evaluation).</param>
/// <param name="ValidationSpearman">Spearman correlation of the predicted reward with the true score on the validation split at the latest evaluation.</param>
/// <param name="Elapsed">Wall time since training started.</param>
public sealed record RarityRewardTrainingProgress(int Step, int TotalSteps, double Loss, double? ValidationLoss, double? ValidationSpearman, TimeSpan Elapsed);

/// <summary>Options of <see cref="RarityRewardTrainer"/> and of <c>mlContext.Transforms.DiffNft.TrainRarityReward</c>.</summary>
public sealed record RarityRewardTrainerOptions
{
    /// <summary>Image column (<see cref="Microsoft.ML.Data.MLImage"/> or a text path) when training from an <c>IDataView</c>.</summary>
    public string ImageColumnName { get; init; } = "Image";

    /// <summary>Rarity score column (Single or Double), as <c>ComputeTraitRarity</c> adds it.</summary>
    public string ScoreColumnName { get; init; } = "RarityScore";

    /// <summary>Rare flag column (Boolean), as <c>ComputeTraitRarity</c> adds it.</summary>
    public string IsRareColumnName { get; init; } = "IsRare";

    /// <summary>
    /// Token id column (text) that decides the train/validation split; when the input has no such column, the row
    /// index plays the token id.
    /// </summary>
    public string TokenIdColumnName { get; init; } = "TokenId";

    /// <summary>
    /// Optional vector column with each token's probability of its value of every trait type, as
    /// <c>ComputeTraitRarity</c> adds it when <see cref="Rarity.TraitRarityOptions.ProbabilitiesColumnName"/> is set.
    /// Used when the input has it: an auxiliary training-only head then learns each trait's information −log2 p
    /// (see <see cref="RarityRewardTrainer.Train"/>).
    /// </summary>
    public string TraitProbabilitiesColumnName { get; init; } = "TraitProbabilities";

    /// <summary>Weight of the auxiliary per-trait information loss (when trait probabilities are given; 0 disables it).</summary>
    public double TraitInformationWeight { get; init; } = 1.0;

    /// <summary>Model size; ignored when <see cref="Vit"/> is set.</summary>
    public VitPreset Preset { get; init; } = VitPreset.Small;

    /// <summary>An explicit architecture instead of a preset (its <see cref="VitOptions.ImageSize"/> is used as given).</summary>
    public VitOptions? Vit { get; init; }

    /// <summary>
    /// Input side of a preset network. Null (default): the training images' side when they are square and at most 128
    /// pixels (CrypToadz' 36×36 stays 36×36, with no resampling), otherwise 32. The preset's patch size is adapted to
    /// the side by <see cref="VitOptions.ForImageSize"/>.
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>Share of tokens held out for validation (early stopping and metrics), chosen by a seeded hash of the token id.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak AdamW learning rate (after a linear warm-up; then cosine decay to a tenth).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Steps of linear learning-rate warm-up.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>Global gradient-norm clip (0 disables).</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>
    /// Weight of the rare classification loss beside the score regression loss. The classification loss weights the
    /// rare class by negatives/positives (~19 at 5 % rare), so at weight 1 its gradients swamp the regression's; 0.25
    /// learned both heads faster on CrypToadz (validation Spearman 0.61 against 0.51 after 600 steps; docs/reward.md).
    /// </summary>
    public double ClassificationWeight { get; init; } = 0.25;

    /// <summary>
    /// Largest random translation, in pixels of the network input, applied to training images (edges replicated);
    /// 0 disables it. Translation is the only augmentation offered because it is the only cheap one that cannot change
    /// a trait: colour jitter changes colour traits (backgrounds, bodies), flips change asymmetric parts and the
    /// direction a character faces, crops and rescaling change size traits (CrypToadz has one) and can cut parts off.
    /// </summary>
    public int MaxShift { get; init; } = 1;

    /// <summary>Step budget. Training stops at whichever of <see cref="MaxSteps"/>, <see cref="MaxTime"/> and early stopping comes first.</summary>
    public int MaxSteps { get; init; } = 3000;

    /// <summary>Wall-time budget (null: steps only). Time-limited runs are not reproducible step for step.</summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>Steps between validation passes (early stopping checks).</summary>
    public int EvaluateEvery { get; init; } = 100;

    /// <summary>Validation passes without improvement after which training stops and the best weights are kept.</summary>
    public int Patience { get; init; } = 8;

    /// <summary>
    /// Seed of every random choice (initial weights, split, batches, shifts). Null (default): the context's seed through
    /// <c>mlContext.Transforms.DiffNft.TrainRarityReward</c>, 0 when <see cref="RarityRewardTrainer"/> is used directly.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>The seed used: <see cref="Seed"/>, or 0 when unset.</summary>
    internal int EffectiveSeed => Seed ?? ContextSeed.EngineDefault;

    /// <summary>Device.</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;

    /// <summary>Steps between progress reports.</summary>
    public int ReportEvery { get; init; } = 50;

    /// <summary>Receives progress reports.</summary>
    public IProgress<RarityRewardTrainingProgress>? Progress { get; init; }

    /// <summary>Stops training between steps with an <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>The architecture to train for images of the given size.</summary>
    public VitOptions ResolveVit(int imageWidth, int imageHeight)
    {
        if (Vit is not null) return Vit;
        int size = ImageSize ?? (imageWidth == imageHeight && imageWidth <= 128 ? imageWidth : 32);
        return VitOptions.For(Preset).ForImageSize(size);
    }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(ValidationFraction > 0 && ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "Must lie in (0, 1).");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be positive.");
        if (!(LearningRate > 0 && LearningRate <= 1)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must lie in (0, 1]: a larger step diverges at once.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be non-negative.");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be non-negative.");
        if (GradientClip < 0) throw new ArgumentOutOfRangeException(nameof(GradientClip), GradientClip, "Must be non-negative.");
        if (!(TraitInformationWeight >= 0)) throw new ArgumentOutOfRangeException(nameof(TraitInformationWeight), TraitInformationWeight, "Must be non-negative.");
        if (!(ClassificationWeight >= 0)) throw new ArgumentOutOfRangeException(nameof(ClassificationWeight), ClassificationWeight, "Must be non-negative.");
        if (MaxShift is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxShift), MaxShift, "Must lie in 0 … 8.");
        if (MaxSteps < 1) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "Must be positive.");
        if (MaxTime is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxTime), t, "Must be positive.");
        if (EvaluateEvery < 1) throw new ArgumentOutOfRangeException(nameof(EvaluateEvery), EvaluateEvery, "Must be positive.");
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "Must be positive.");
        if (ReportEvery < 1) throw new ArgumentOutOfRangeException(nameof(ReportEvery), ReportEvery, "Must be positive.");
        if (ImageSize is { } s && s < 1) throw new ArgumentOutOfRangeException(nameof(ImageSize), s, "Must be positive.");
        foreach (var (name, value) in new[] { (nameof(ImageColumnName), ImageColumnName), (nameof(ScoreColumnName), ScoreColumnName), (nameof(IsRareColumnName), IsRareColumnName), (nameof(TokenIdColumnName), TokenIdColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentOutOfRangeException(name, value, "A column name cannot be empty.");
        try
        {
            (Vit ?? VitOptions.For(Preset).ForImageSize(ImageSize ?? 32)).Validate();
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentOutOfRangeException(nameof(Vit), ex.Message);
        }
    }
}
