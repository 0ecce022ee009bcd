using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// Options of <see cref="QuickstartPipeline"/>: the whole DiffNFTGen method on one collection, from rendering it to the
/// report. The defaults are <c>diffnft quickstart</c>'s: the built-in collection, the bundled base and reward models, a
/// short PPO fine-tune for rarity, and 500 images from each model evaluated against the collection — about 15 minutes on
/// 2 cores (docs/getting-started.md gives the measured stage times).
/// </summary>
public sealed record QuickstartOptions
{
    /// <summary>The folder every stage writes into (created when missing). Rerunning into the same folder resumes.</summary>
    /// <remarks>
    /// The folder must be missing, empty, or one a quickstart wrote (docs/output-folders.md); anything else is refused
    /// before the first stage unless <see cref="Overwrite"/> is set. Two runs into one folder cannot overlap: the second
    /// fails at once.
    /// </remarks>
    public required string OutputDirectory { get; init; }

    /// <summary>
    /// Write into <see cref="OutputDirectory"/> even when it is not empty and no quickstart wrote it: files where the
    /// stages write are replaced. Default false: such a folder is refused, so a user's files are never overwritten.
    /// </summary>
    public bool Overwrite { get; init; }

    /// <summary>The collection to render; null is the built-in collection (<see cref="BuiltInCollection"/>).</summary>
    /// <remarks>Ignored — and must be null — when <see cref="CollectionPath"/> names a collection of one's own.</remarks>
    public NounsCollectionOptions? Collection { get; init; }

    /// <summary>
    /// A collection of one's own instead of a rendered one: a folder or file that <c>mlContext.Data.LoadNftCollection</c>
    /// reads (OpenSea metadata with images, CSV or JSON traits with an image folder or an atlas), with an image per token.
    /// The run checks it before any training, brings its images to the working size (at most 64 px, by the policy in docs/own-collection.md),
    /// trains the base model, the reward model and a held-out trait classifier as the judge on it, then fine-tunes,
    /// generates, evaluates and reports as for the built-in collection. Null (the default): the rendered collection.
    /// </summary>
    /// <remarks>The bundled models know only the built-in collection, so a collection of one's own always trains its
    /// models (<see cref="FromScratch"/> is implied).</remarks>
    public string? CollectionPath { get; init; }

    /// <summary>
    /// A time budget for the whole run of a from-scratch or own-collection run (null: none; each stage runs to its own
    /// step budget). It is split across the stages — base model half, reward model 12 %, judge 8 %, fine-tuning's time
    /// guard 15 %, the rest for generation and evaluation — and each training stage stops at its share (the learning-rate
    /// schedules follow the clock then).
    /// </summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>
    /// How the judge of a collection of one's own is trained: a held-out trait classifier (20 % of the tokens held out),
    /// whose decoded traits give the generated images' rarity. Unused for the built-in collection, whose exact part
    /// decoder needs no training. Progress and cancellation are set by the pipeline.
    /// </summary>
    public TraitClassification.TraitClassifierOptions JudgeTraining { get; init; } = new();

    /// <summary>
    /// Train the base and reward models (with <see cref="BaseTraining"/> and <see cref="RewardTraining"/>) instead of
    /// copying the bundled ones. Needed for any collection other than the built-in one.
    /// </summary>
    public bool FromScratch { get; init; }

    /// <summary>Folder holding the bundled models; null searches for it (<see cref="BundledModels.Find"/>).</summary>
    public string? BundledModelsDirectory { get; init; }

    /// <summary>
    /// How the base diffusion model is trained with <see cref="FromScratch"/>. The default is the bundled model's recipe:
    /// Small, 1,859 steps of batch 64, seed 0 (about 20 minutes on 2 cores). Checkpoint, progress and cancellation
    /// settings are set by the pipeline. With <see cref="DiffusionTrainerOptions.Latent"/> set the base model is a latent
    /// one and a collection's working size may be up to 128 px instead of 64 (docs/own-collection.md).
    /// </summary>
    public DiffusionTrainerOptions BaseTraining { get; init; } = new() { Preset = DiffusionPreset.Small, MaxSteps = BundledModels.BaseTrainingSteps, CheckpointEvery = 100 };

    /// <summary>
    /// How the reward model is trained with <see cref="FromScratch"/>. The default is the bundled model's recipe: Small
    /// ViT, at most 4,300 steps with early stopping, seed 0 (about 8 minutes on 2 cores). Progress and cancellation are
    /// set by the pipeline; the trainer has no checkpoint, so an interrupted reward training restarts.
    /// </summary>
    public RarityRewardTrainerOptions RewardTraining { get; init; } = new() { Preset = VitPreset.Small, MaxSteps = BundledModels.RewardTrainingSteps };

    /// <summary>Which output of the rarity model is the reward (default the standardised predicted score).</summary>
    public RarityRewardKind RarityOutput { get; init; } = RarityRewardKind.ZScore;

    /// <summary>Weight of the rarity reward in the fine-tuning objective. Default 1.</summary>
    public double RarityWeight { get; init; } = 1.0;

    /// <summary>Weight of the fidelity reward (the base model's denoising error; 0 never computes it). Default 0.</summary>
    public double FidelityWeight { get; init; }

    /// <summary>
    /// The prompts fine-tuned on. Null (the default): the collection's subject — the most common opening phrase of its
    /// captions ("a noun" for the built-in collection; "an nft" for a collection whose captions are made from its traits).
    /// </summary>
    public IReadOnlyList<string>? FineTunePrompts { get; init; }

    /// <summary>
    /// Every fine-tuning hyper-parameter (PPO, KL β, LoRA, learning rate, batch shape, iteration budget, seed); defaults
    /// are <see cref="FineTuneOptions"/>'s except the budget: 16 iterations. Sixteen PPO iterations (512 images) are where
    /// the built-in collection's rare rate reached 2.7× the base model's at 1.10× its FID; longer runs keep raising the rare
    /// rate but collapse onto a few rare combinations (docs/results.md). The pipeline sets the checkpoint, log, sample-grid
    /// paths, progress and cancellation.
    /// </summary>
    public FineTuneOptions FineTune { get; init; } = new() { MaxIterations = 16, CheckpointEvery = 4 };

    /// <summary>
    /// A guard on fine-tuning's wall time (null: none): the budget is <see cref="FineTuneOptions.MaxIterations"/>, so a busy
    /// machine gets the same model, later; the guard only stops a run that would take far longer than expected, and the
    /// stage's summary and the report say so when it does. Time recorded by an interrupted run's last checkpoint counts
    /// (work the interruption lost does not). Default 10 minutes (16 iterations take about 3.5 minutes on 2 idle cores).
    /// </summary>
    public TimeSpan? FineTuneTime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Validation during fine-tuning: the tuned model is saved after every this many iterations, and after training the
    /// base model and each saved iteration generate <see cref="ValidationSampleCount"/> images from fixed seeds (apart
    /// from the generation seeds) that are evaluated like the final sets — rare rate, FID-ResNet18, duplicates, decodable
    /// rate — into <c>validation.csv</c>, report.json's <c>validation</c> and report.html's trajectory table, with the
    /// Pareto set of rare rate against FID marked. 0 turns it off. Default 4.
    /// </summary>
    public int ValidationEvery { get; init; } = 4;

    /// <summary>Images per validated model (a small N: the trajectory's numbers are noisier than the final sets'). Default 64.</summary>
    public int ValidationSampleCount { get; init; } = 64;

    /// <summary>
    /// Choose the tuned model by validation: the rarest saved iteration whose validation FID-ResNet18 is at most this
    /// many times the base model's (ties: the earlier iteration); when none is, the one with the lowest FID. Null (the
    /// default): the last iteration is the tuned model. Needs <see cref="ValidationEvery"/> &gt; 0.
    /// </summary>
    public double? FidBudget { get; init; }

    /// <summary>N: images generated by each model, and the number compared with the collection. Default 500.</summary>
    public int SampleCount { get; init; } = 500;

    /// <summary>The prompt of the generated images. Null (the default): the collection's subject, as for <see cref="FineTunePrompts"/>.</summary>
    public string? GenerationPrompt { get; init; }

    /// <summary>Seed of the first generated image; image i uses seed + i, the same for both models. Default 0.</summary>
    public long GenerationSeed { get; init; }

    /// <summary>Sampler settings of the generated images (default 20 DDIM steps, guidance 2, η 0).</summary>
    public SamplingOptions Generation { get; init; } = new();

    /// <summary>Seed of the evaluation's reference sample and KID subsets. Default 0.</summary>
    public int EvaluationSeed { get; init; }

    /// <summary>
    /// The α curve: for each α the fine-tuning update is scaled by α (base + α·(tuned − base)), N images are generated
    /// with the same prompts and seeds and evaluated like the two models, and the report draws the rarity–fidelity curve
    /// of the one run, without retraining (<c>generated/alpha-{α}</c>, <c>metrics/alpha-{α}.json</c>). Values in (0, 1);
    /// empty skips it. Default 0.25, 0.5, 0.75.
    /// </summary>
    public IReadOnlyList<double> AlphaCurve { get; init; } = [0.25, 0.5, 0.75];

    /// <summary>KID: the number of random subsets. Default 100.</summary>
    public int KidSubsets { get; init; } = 100;

    /// <summary>Where cached reference features live; null for the evaluator's default user cache folder.</summary>
    public string? ReferenceCacheDirectory { get; init; }

    /// <summary>
    /// A ResNet-18 feature extractor to reuse (for example across several runs in one process); the caller owns it. Null
    /// creates one for the evaluation stage and disposes it afterwards.
    /// </summary>
    internal ResNet18FeatureExtractor? ResNet18Extractor { get; init; }

    /// <summary>Receives stage starts, progress and completions (called on the pipeline's thread).</summary>
    public IProgress<QuickstartProgress>? Progress { get; init; }

    /// <summary>
    /// Stops the pipeline at the next safe point. Stages with checkpoints (training, fine-tuning) save one first; the
    /// stage's work is kept, and rerunning with the same options resumes.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Whether the run trains its base and reward models: <see cref="FromScratch"/>, or a collection of one's own.</summary>
    public bool TrainsModels => FromScratch || CollectionPath is not null;

    /// <summary>The collection options in effect.</summary>
    public NounsCollectionOptions ResolveCollection() => Collection ?? BuiltInCollection.CreateOptions();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
            throw new ArgumentException("QuickstartOptions.OutputDirectory must name a folder.", nameof(OutputDirectory));
        if (SampleCount < 2) throw new ArgumentOutOfRangeException(nameof(SampleCount), SampleCount, "N (SampleCount) must be at least 2.");
        if (CollectionPath is not null)
        {
            if (string.IsNullOrWhiteSpace(CollectionPath)) throw new ArgumentException("QuickstartOptions.CollectionPath must name a folder or file (null for the built-in collection).", nameof(CollectionPath));
            if (Collection is not null)
                throw new ArgumentException("Set either QuickstartOptions.Collection (a rendered collection) or CollectionPath (one of your own), not both.", nameof(CollectionPath));
            // The collection's size is checked when it is loaded, before any training (the first stage).
        }
        else
        {
            var collection = ResolveCollection();
            if (collection.Count < 2) throw new ArgumentOutOfRangeException(nameof(Collection), collection.Count, "The collection needs at least 2 tokens.");
            if (!FromScratch && !BuiltInCollection.IsBuiltIn(collection))
                throw new ArgumentException(
                    "The bundled base and reward models were trained on the built-in collection; for another collection set QuickstartOptions.FromScratch so that both are trained on it.",
                    nameof(Collection));
            if (SampleCount > collection.Count)
                throw new ArgumentOutOfRangeException(nameof(SampleCount), SampleCount, $"N (SampleCount) must not exceed the collection's {collection.Count} tokens: the evaluation compares N images of each.");
        }
        if (Budget is { } budget && budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Budget), budget, "Must be positive (null for no budget).");
        if (Budget is not null && !TrainsModels)
            throw new ArgumentException("QuickstartOptions.Budget splits the time of the models a run trains; the bundled models are copied, not trained: set QuickstartOptions.FromScratch, or guard fine-tuning's time with FineTuneTime instead.", nameof(Budget));
        ArgumentNullException.ThrowIfNull(AlphaCurve, nameof(AlphaCurve));
        foreach (double a in AlphaCurve)
            if (!(a > 0 && a < 1)) throw new ArgumentOutOfRangeException(nameof(AlphaCurve), a, "Each α of the curve must lie strictly between 0 (the base model) and 1 (the tuned model).");
        if (AlphaCurve.Distinct().Count() != AlphaCurve.Count) throw new ArgumentException("The α values of the curve must be distinct.", nameof(AlphaCurve));
        if (ValidationEvery < 0) throw new ArgumentOutOfRangeException(nameof(ValidationEvery), ValidationEvery, "Must be non-negative (0 turns validation off).");
        if (ValidationEvery > 0 && ValidationSampleCount < 2)
            throw new ArgumentOutOfRangeException(nameof(ValidationSampleCount), ValidationSampleCount, "Validation needs at least 2 images per model.");
        if (FidBudget is { } f && !(f >= 1 && double.IsFinite(f)))
            throw new ArgumentOutOfRangeException(nameof(FidBudget), f, "The FID budget is a factor of the base model's FID, at least 1 (1.1: within 10 %).");
        if (FidBudget is not null && ValidationEvery == 0)
            throw new ArgumentException("QuickstartOptions.FidBudget chooses among validated iterations; set ValidationEvery above 0.", nameof(FidBudget));
        if (KidSubsets < 1) throw new ArgumentOutOfRangeException(nameof(KidSubsets), KidSubsets, "Must be at least 1.");
        if (!double.IsFinite(RarityWeight)) throw new ArgumentOutOfRangeException(nameof(RarityWeight), RarityWeight, "Must be finite.");
        if (!double.IsFinite(FidelityWeight)) throw new ArgumentOutOfRangeException(nameof(FidelityWeight), FidelityWeight, "Must be finite.");
        if (FineTuneTime is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(FineTuneTime), FineTuneTime, "Must be positive.");
        if (FineTunePrompts is not null && (FineTunePrompts.Count == 0 || FineTunePrompts.Any(string.IsNullOrWhiteSpace)))
            throw new ArgumentException("FineTunePrompts needs at least one prompt, and none may be blank (null: the collection's subject).", nameof(FineTunePrompts));
        if (GenerationPrompt is not null && string.IsNullOrWhiteSpace(GenerationPrompt)) throw new ArgumentException("GenerationPrompt must not be blank (null: the collection's subject).", nameof(GenerationPrompt));
        ArgumentNullException.ThrowIfNull(BaseTraining, nameof(BaseTraining));
        ArgumentNullException.ThrowIfNull(RewardTraining, nameof(RewardTraining));
        ArgumentNullException.ThrowIfNull(FineTune, nameof(FineTune));
        ArgumentNullException.ThrowIfNull(JudgeTraining, nameof(JudgeTraining));
        JudgeTraining.Validate();
        ArgumentNullException.ThrowIfNull(Generation, nameof(Generation));
        BaseTraining.Validate();
        if (BaseTraining.Latent is not null && !TrainsModels)
            throw new ArgumentException("A latent base model (BaseTraining.Latent, --latent) is trained on the collection, not bundled: set FromScratch (--from-scratch) or CollectionPath (--collection).", nameof(BaseTraining));
        RewardTraining.Validate();
        FineTune.Validate();
        Generation.Validate();
    }
}
