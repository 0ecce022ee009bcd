using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>Options of <see cref="RewardWeightSweep"/>: the grid of reward weights, the per-trial budget, generation and evaluation.</summary>
public sealed record RewardWeightSweepOptions
{
    /// <summary>Folder of the sweep: <c>trials.csv</c>, <c>trials/&lt;id&gt;/</c>, <c>base/</c>, <c>report.html</c>, <c>report.json</c>.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The rarity weights w_rarity to try. Default 0, 0.25, 0.5, 0.75, 1.</summary>
    public IReadOnlyList<double> RarityWeights { get; init; } = [0, 0.25, 0.5, 0.75, 1];

    /// <summary>The KL weights β to try (a grid with <see cref="RarityWeights"/>); null uses the template's <see cref="FineTuneOptions.KlWeight"/>.</summary>
    public IReadOnlyList<double>? KlWeights { get; init; }

    /// <summary>
    /// Fine-tuning runs per grid point, with seeds <see cref="FineTuneOptions.Seed"/> + 0, 1, …; <c>summary.csv</c> and
    /// <see cref="SweepResult.Summary"/> average them. Default 1. A run of PPO on a small model moves the rare rate by its seed
    /// about as much as a step of 0.25 in the rarity weight does, so compare neighbouring weights with 2–3 repeats.
    /// </summary>
    public int Repeats { get; init; } = 1;

    /// <summary>
    /// A fixed fidelity weight for every trial; null (the default) uses w_fidelity = 1 − w_rarity, from pure fidelity to pure
    /// rarity. With standardised components (<see cref="FineTuneOptions.ComponentScaling"/>) only the ratio of the weights
    /// matters, and 1 − w puts the top weights (0.75, 1) in almost the same direction; a fixed 1 spaces the trials evenly
    /// (docs/sweeps.md measures both).
    /// </summary>
    public double? FidelityWeight { get; init; }

    /// <summary>
    /// The fine-tuning settings of every trial (iterations or minutes, seed, learning rate, …). Per trial the sweep sets
    /// <see cref="FineTuneOptions.KlWeight"/>, the checkpoint, the log, the sample grids, progress and cancellation.
    /// </summary>
    public FineTuneOptions FineTune { get; init; } = new() { MaxIterations = 10 };

    /// <summary>Prompts of fine-tuning and generation (generation cycles through them). Default "a noun".</summary>
    public IReadOnlyList<string> Prompts { get; init; } = ["a noun"];

    /// <summary>Images generated per trial (and for the base model); at least <see cref="EvaluationSize"/>. Default 200.</summary>
    public int GenerationCount { get; init; } = 200;

    /// <summary>Seed of the first generated image; image i uses seed + i — the same seeds for the base and every trial.</summary>
    public long GenerationSeed { get; init; } = 1;

    /// <summary>Sampler settings of the generated images (20 DDIM steps, guidance 2, η = 0 by default).</summary>
    public SamplingOptions Generation { get; init; } = new();

    /// <summary>N of the evaluation (FID and rates are compared at equal N only). Default 200.</summary>
    public int EvaluationSize { get; init; } = 200;

    /// <summary>Seed of the evaluation's samples and KID subsets.</summary>
    public int EvaluationSeed { get; init; }

    /// <summary>Folder of cached reference features; null uses the evaluator's default.</summary>
    public string? ReferenceCacheDirectory { get; init; }

    /// <summary>A ResNet-18 extractor to share (the caller owns it); null creates one for the sweep.</summary>
    internal ResNet18FeatureExtractor? ResNet18Extractor { get; init; }

    /// <summary>
    /// The leaderboard's FID budget: trials whose FID-ResNet18 exceeds it rank after every trial within it. Null ranks all
    /// trials by rare rate alone (ties by FID).
    /// </summary>
    public double? FidBudget { get; init; }

    /// <summary>Whether the base model's images are generated and evaluated too (for the report and as a comparison). Default true.</summary>
    public bool EvaluateBase { get; init; } = true;

    /// <summary>Images in each sample grid. Default 64.</summary>
    public int GridImages { get; init; } = 64;

    /// <summary>Whether <c>report.html</c> and <c>report.json</c> are written at the end. Default true.</summary>
    public bool WriteReport { get; init; } = true;

    /// <summary>Receives a message per stage of each trial and the fine-tuner's per-iteration reports.</summary>
    public IProgress<SweepProgress>? Progress { get; init; }

    /// <summary>Stops the sweep at the next safe point; an interrupted trial resumes from its checkpoint on the next run.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>The KL weights in effect.</summary>
    public IReadOnlyList<double> EffectiveKlWeights => KlWeights ?? [FineTune.KlWeight];

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory)) throw new ArgumentException("A sweep needs an output directory.", nameof(OutputDirectory));
        if (RarityWeights is null || RarityWeights.Count == 0) throw new ArgumentException("Give at least one rarity weight.", nameof(RarityWeights));
        foreach (double w in RarityWeights)
            if (!double.IsFinite(w)) throw new ArgumentException($"Rarity weight {w} is not a finite number.", nameof(RarityWeights));
        if (RarityWeights.Distinct().Count() != RarityWeights.Count) throw new ArgumentException("The rarity weights repeat a value; give each once.", nameof(RarityWeights));
        if (KlWeights is not null)
        {
            if (KlWeights.Count == 0) throw new ArgumentException("Give at least one KL weight, or null for the template's.", nameof(KlWeights));
            foreach (double b in KlWeights)
                if (!(b >= 0) || !double.IsFinite(b)) throw new ArgumentException($"KL weight {b} must be a finite non-negative number.", nameof(KlWeights));
            if (KlWeights.Distinct().Count() != KlWeights.Count) throw new ArgumentException("The KL weights repeat a value; give each once.", nameof(KlWeights));
        }
        if (Repeats is < 1 or > 100) throw new ArgumentException($"Repeats must be between 1 and 100, got {Repeats}.", nameof(Repeats));
        if (FidelityWeight is { } f && !double.IsFinite(f)) throw new ArgumentException($"The fidelity weight {f} is not a finite number.", nameof(FidelityWeight));
        ArgumentNullException.ThrowIfNull(FineTune, nameof(FineTune));
        FineTune.Validate();
        if (Prompts is null || Prompts.Count == 0 || Prompts.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Give at least one non-empty prompt.", nameof(Prompts));
        if (EvaluationSize < 2) throw new ArgumentException($"EvaluationSize (N) must be at least 2, got {EvaluationSize}.", nameof(EvaluationSize));
        if (GenerationCount < EvaluationSize)
            throw new ArgumentException($"GenerationCount ({GenerationCount}) must be at least EvaluationSize N ({EvaluationSize}): the evaluation compares N generated images.", nameof(GenerationCount));
        ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
        Generation.Validate();
        if (FidBudget is { } budget && !(budget > 0)) throw new ArgumentException($"The FID budget must be positive, got {budget}.", nameof(FidBudget));
        if (GridImages < 1) throw new ArgumentException($"GridImages must be at least 1, got {GridImages}.", nameof(GridImages));
    }
}
