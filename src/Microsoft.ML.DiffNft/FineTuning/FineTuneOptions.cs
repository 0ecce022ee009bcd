using Microsoft.ML.DiffNft.Reward;
namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Options of <see cref="DiffusionFineTuner"/> and of <c>mlContext.Transforms.DiffNft.FineTune</c>. The defaults
/// follow DDPO (η = 1, clip 1e-4 on element-averaged log-probabilities, advantages clipped at ±5, LoRA rank 4,
/// gradient clip 1) scaled to a CPU — with a LoRA learning rate of 1e-2, since a CPU budget allows only tens of iterations: 4 prompts × 8 images and 20 DDIM steps per iteration, half of
/// the timesteps trained. docs/algorithms.md explains each choice.
/// </summary>
public sealed record FineTuneOptions
{
    /// <summary>Name of the prompt column of the <c>IDataView</c> given to <c>Fit</c>.</summary>
    public string PromptColumnName { get; init; } = "Prompt";

    /// <summary>PPO (any reward) or reward backpropagation (differentiable rewards).</summary>
    public FineTuneMode Mode { get; init; } = FineTuneMode.Ppo;

    /// <summary>Iteration budget; training stops at whichever of this and <see cref="MaxTime"/> comes first.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>
    /// Wall-time cap (null: iterations only). A resumed run counts the time its checkpoint records — the earlier runs' time
    /// up to their last checkpoint, never the work an interruption lost — so every minute is charged once. A run stopped by
    /// the cap is not reproducible iteration for iteration: prefer <see cref="MaxIterations"/> as the budget and this as a guard.
    /// </summary>
    public TimeSpan? MaxTime { get; init; }

    /// <summary>Distinct prompts sampled per iteration (all of them, cycled, when there are fewer).</summary>
    public int PromptsPerIteration { get; init; } = 4;

    /// <summary>Images (trajectories) per prompt per iteration: K.</summary>
    public int ImagesPerPrompt { get; init; } = 8;

    /// <summary>DDIM steps of each trajectory.</summary>
    public int SamplingSteps { get; init; } = 20;

    /// <summary>DDIM η of the policy (must be positive): 1 makes every step a Gaussian with the DDPM-like σ_t.</summary>
    public double Eta { get; init; } = 1.0;

    /// <summary>Classifier-free guidance scale of the policy (the same in rollouts and training, so the scored policy is the sampler).</summary>
    public double GuidanceScale { get; init; } = 2.0;

    /// <summary>PPO clip range ε on the ratio of element-averaged step probabilities.</summary>
    public double ClipRange { get; init; } = 1e-4;

    /// <summary>Advantages are clipped to ±this.</summary>
    public double AdvantageClip { get; init; } = 5.0;

    /// <summary>Group (per prompt, per iteration) or running per-prompt statistics.</summary>
    public AdvantageNormalization Advantages { get; init; } = AdvantageNormalization.Group;

    /// <summary>
    /// How the components of a <see cref="WeightedReward"/> are combined into the training signal: standardised per batch
    /// (default, so the weights trade the objectives off whatever their units) or raw.
    /// </summary>
    public RewardComponentScaling ComponentScaling { get; init; } = RewardComponentScaling.Standardized;

    /// <summary>
    /// PPO: advantages are divided by max(σ, this × σ₀) rather than by σ alone — σ the standard deviation of the rewards
    /// they are normalised with, σ₀ that of the run's first iteration (the base model's spread). As a policy converges, its
    /// batch σ shrinks and plain normalisation inflates every step in proportion: the feedback that ends in a collapse onto
    /// one image. With the floor, a batch that already agrees gets small advantages. 0, the default: σ alone, as DDPO —
    /// on the built-in collection a floor of 1 did not help (one seed, 16 iterations: FID 1.40× the base model's against
    /// 1.12× without it; docs/results.md).
    /// </summary>
    public double AdvantageStdFloor { get; init; }

    /// <summary>
    /// PPO: weight, in units of σ₀ (see <see cref="AdvantageStdFloor"/>), of the crowding penalty subtracted from each
    /// image's training signal: log(1 + how many recent samples lie close to it in the reward's embedding), so that copies
    /// of one rare image lower each other's reward (<see cref="CrowdingWindow"/>, <see cref="CrowdingBandwidth"/>;
    /// docs/algorithms.md). 0, the default, disables it: on the built-in collection a weight of 1 kept duplicates no lower
    /// and raised the FID (1.55× the base model's after 16 iterations against 1.12× without it; docs/results.md), because
    /// typical images are crowded too and the penalty pushed the policy towards odd ones. The logged reward is the reward's
    /// own; the log's <c>reward_crowding</c> column is the mean crowding.
    /// </summary>
    public double CrowdingWeight { get; init; }

    /// <summary>PPO: iterations of samples the crowding penalty remembers besides the current batch.</summary>
    public int CrowdingWindow { get; init; } = 4;

    /// <summary>
    /// PPO: the crowding kernel's bandwidth as a share of the median distance from a first-iteration sample to its nearest
    /// neighbour: images much closer than that count as copies.
    /// </summary>
    public double CrowdingBandwidth { get; init; } = 0.5;

    /// <summary>Whether the crowding penalty takes part (PPO with a non-zero <see cref="CrowdingWeight"/>).</summary>
    internal bool UsesCrowding => Mode == FineTuneMode.Ppo && CrowdingWeight != 0;

    /// <summary>Rewards kept per prompt by the running statistics.</summary>
    public int StatBufferSize { get; init; } = 32;

    /// <summary>Rewards a prompt needs before its own running statistics replace the batch statistics.</summary>
    public int StatMinCount { get; init; } = 16;

    /// <summary>Passes of PPO updates over each iteration's trajectories.</summary>
    public int InnerEpochs { get; init; } = 1;

    /// <summary>Share of each trajectory's timesteps trained per inner epoch (drawn at random per minibatch).</summary>
    public double TimestepFraction { get; init; } = 0.5;

    /// <summary>
    /// PPO leaves the last this many sampling steps out of the policy-gradient term (0: every step, as DDPO). The final
    /// step's σ_t is tiny (about 0.01, landing on ᾱ_0), so its score-function gradient has a variance of order 1/σ_t² while
    /// the images hardly depend on its noise: it dominates the gradient of small batches with noise (docs/algorithms.md
    /// §3). The excluded steps keep their KL term, which is deterministic and adds no noise.
    /// </summary>
    public int ExcludedFinalSteps { get; init; } = 1;

    /// <summary>Trajectories per minibatch (one network call per trained timestep covers the whole minibatch).</summary>
    public int TrainBatchSize { get; init; } = 16;

    /// <summary>
    /// PPO: trajectories sampled and scored in one network batch (0: the whole iteration at once). It bounds the memory of
    /// sampling, and it is the unit a cluster hands to one sampler worker: runs with the same value give the same numbers
    /// in one process and on a cluster (a different value changes the batches, and so the last bits of the results).
    /// </summary>
    public int SamplingBatchSize { get; init; }

    /// <summary>Minibatches whose gradients are accumulated into one optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Global gradient-norm clip (0 disables).</summary>
    public double GradientClipNorm { get; init; } = 1.0;

    /// <summary>
    /// AdamW learning rate. Default 1e-2 for LoRA: each iteration makes only two optimizer steps, and with DDPO's 3e-4 the
    /// built-in collection's rare rate did not move in 30 CPU minutes, while 1e-2 doubled it in 10 iterations at 1.04× the
    /// FID (docs/results.md). Use about 1e-4 for a full fine-tune (rank 0).
    /// </summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>
    /// β: weight of the exact per-step KL to the base model, ‖μ_θ − μ_ref‖²/(2σ_t²). The loss adds β × the KL averaged
    /// over elements and trained steps to a surrogate averaged the same way, so in per-image units the objective is
    /// E[A] − β·KL(trajectory), A the normalised advantage: its optimum tilts the base model by exp(A/β) (β = 0.01 makes an
    /// image one standard deviation better e^100 times likelier: a loose leash, which long runs collapse against; 0.1 holds
    /// them much closer). With <see cref="KlTarget"/> set this is the starting β. docs/algorithms.md §4.
    /// </summary>
    public double KlWeight { get; init; } = 0.01;

    /// <summary>
    /// A KL budget in the logged unit, nats per image (the trajectory's KL to the base model). When set, β doubles after an
    /// iteration whose KL exceeds 1.5× the target and halves after one below target/1.5 (the adaptive rule of the PPO
    /// paper). Null keeps β fixed.
    /// </summary>
    public double? KlTarget { get; init; }

    /// <summary>LoRA rank; 0 fine-tunes every weight (the reference is then a frozen copy of the base network).</summary>
    public int LoraRank { get; init; } = 4;

    /// <summary>LoRA α (the update is scaled by α/rank); null uses the rank (scale 1).</summary>
    public double? LoraAlpha { get; init; }

    /// <summary>Layers that get LoRA adapters.</summary>
    public LoraTargets LoraTargets { get; init; } = LoraTargets.Linear;

    /// <summary>
    /// Backprop mode: the last K sampler steps through which the reward gradient flows (DRaFT-K); 0, the default, means
    /// every step (AlignProp-style). A Noun's parts are chosen in the early, noisy steps, so a small K can only restyle
    /// pixels: K = 2 hacked colours and left 4 % of the images decodable, every step reached rare parts (docs/results.md).
    /// </summary>
    public int BackpropSteps { get; init; }

    /// <summary>The K in effect: <see cref="BackpropSteps"/>, or <see cref="SamplingSteps"/> when it is 0.</summary>
    public int EffectiveBackpropSteps => BackpropSteps == 0 ? SamplingSteps : BackpropSteps;

    /// <summary>
    /// Backprop mode: of the <see cref="BackpropSteps"/> differentiated steps, the last this many pass the gradient only
    /// through the sampler's update (x_{t−1} as a function of x_t with the network's output held constant), so the weights
    /// learn from the earlier, noisier steps where an image's parts are decided and cannot learn late-step pixel
    /// patterns that please the reward. 0 differentiates every network call, as DRaFT-K does.
    /// </summary>
    public int BackpropDetachedFinalSteps { get; init; }

    /// <summary>
    /// Backprop mode: each image's reward is the mean over this many randomly transformed copies (shifted by up to
    /// <see cref="BackpropRewardShift"/> pixels, plus Gaussian noise of std <see cref="BackpropRewardNoise"/>), so the
    /// gradient follows content the reward recognises under small changes rather than pixel patterns it overreacts to.
    /// Default 4 copies shifted by up to 2 pixels without noise (noise raised the FID cost, docs/results.md); 0 scores each
    /// image once, as DRaFT does. Reward queries still count images, not copies.
    /// </summary>
    public int BackpropRewardSamples { get; init; } = 4;

    /// <summary>Backprop mode: largest translation, in image pixels, of the copies of <see cref="BackpropRewardSamples"/>.</summary>
    public int BackpropRewardShift { get; init; } = 2;

    /// <summary>Backprop mode: std of the Gaussian noise added to the copies of <see cref="BackpropRewardSamples"/> (images lie in [−1, 1]).</summary>
    public double BackpropRewardNoise { get; init; }

    /// <summary>Checkpoint file; when it exists and <see cref="Resume"/> is true, fine-tuning continues from it bit for bit.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Write a checkpoint every this many iterations (0: only at the end and on cancellation).</summary>
    public int CheckpointEvery { get; init; } = 10;

    /// <summary>Resume from <see cref="CheckpointPath"/> when it exists.</summary>
    public bool Resume { get; init; } = true;

    /// <summary>CSV file with one row per iteration (rewritten atomically after each iteration); null for none.</summary>
    public string? LogPath { get; init; }

    /// <summary>
    /// Save the tuned model as it is after every this many iterations (0: never; needs <see cref="SnapshotDirectory"/>):
    /// <c>iteration-{k:D5}.diffnft</c>, for choosing an iteration by validation afterwards (the quickstart's
    /// <c>--fid-budget</c>). Package models only; a snapshot is a whole model (the LoRA update merged).
    /// </summary>
    public int SnapshotEvery { get; init; }

    /// <summary>Where <see cref="SnapshotEvery"/> saves the snapshots (created when missing).</summary>
    public string? SnapshotDirectory { get; init; }

    /// <summary>Write a fixed-seed sample grid every this many iterations (0: never; needs <see cref="SampleGridDirectory"/>).</summary>
    public int SampleGridEvery { get; init; }

    /// <summary>Folder for the sample grids <c>grid-{iteration:D5}.png</c> (iteration 0 is the base model).</summary>
    public string? SampleGridDirectory { get; init; }

    /// <summary>Images per prompt in a sample grid (the first four prompts, the same seeds every time).</summary>
    public int SampleGridImagesPerPrompt { get; init; } = 4;

    /// <summary>
    /// Seed of every random choice (adapter initialisation, prompts, noise, minibatches, timesteps). Null (default): the
    /// context's seed through <c>mlContext.Transforms.DiffNft.FineTune</c>, 0 when <see cref="DiffusionFineTuner"/>
    /// is used directly.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>The seed used: <see cref="Seed"/>, or 0 when unset.</summary>
    internal int EffectiveSeed => Seed ?? ContextSeed.EngineDefault;

    /// <summary>Receives one report per iteration.</summary>
    public IProgress<FineTuneProgress>? Progress { get; init; }

    /// <summary>
    /// Stops fine-tuning at the next safe point — between iterations, or during a rollout, before any weight has changed
    /// — after writing a checkpoint of the last completed iteration when <see cref="CheckpointPath"/> is set.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>The LoRA α in effect.</summary>
    public double EffectiveLoraAlpha => LoraAlpha ?? LoraRank;

    // The largest KlWeight accepted.
    internal const double MaxKlWeight = 1e6;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(PromptColumnName)) throw new ArgumentOutOfRangeException(nameof(PromptColumnName), PromptColumnName, "A prompt column name is required.");
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown fine-tuning mode.");
        if (!Enum.IsDefined(ComponentScaling)) throw new ArgumentOutOfRangeException(nameof(ComponentScaling), ComponentScaling, "Unknown reward component scaling.");
        if (!Enum.IsDefined(Advantages)) throw new ArgumentOutOfRangeException(nameof(Advantages), Advantages, "Unknown advantage normalisation.");
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "Must be positive.");
        if (MaxTime is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxTime), MaxTime, "Must be positive.");
        if (PromptsPerIteration < 1) throw new ArgumentOutOfRangeException(nameof(PromptsPerIteration), PromptsPerIteration, "Must be positive.");
        if (ImagesPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(ImagesPerPrompt), ImagesPerPrompt, "Must be positive.");
        if (Mode == FineTuneMode.Ppo && Advantages == AdvantageNormalization.Group && ImagesPerPrompt < 2)
            throw new ArgumentOutOfRangeException(nameof(ImagesPerPrompt), ImagesPerPrompt, "Group advantages compare the images of a prompt with each other: use at least 2 images per prompt, or running per-prompt statistics.");
        if (SamplingSteps < 1) throw new ArgumentOutOfRangeException(nameof(SamplingSteps), SamplingSteps, "Must be positive.");
        if (!(Eta >= 0) || double.IsInfinity(Eta)) throw new ArgumentOutOfRangeException(nameof(Eta), Eta, "Must be a finite non-negative number.");
        if (!(Eta > 0))
            throw new ArgumentOutOfRangeException(nameof(Eta), Eta, "Fine-tuning needs a stochastic policy (log-probabilities and the KL are defined only for σ_t > 0): η must be positive; 1 is the DDPO setting.");
        // The sampler's own bound: a larger scale overflows the guided noise prediction into NaN images and a NaN KL.
        if (!(GuidanceScale >= 0 && GuidanceScale <= 100)) throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale, "The guidance scale must lie in [0, 100].");
        if (!(ClipRange > 0 && ClipRange < 1)) throw new ArgumentOutOfRangeException(nameof(ClipRange), ClipRange, "Must lie in (0, 1).");
        if (!(AdvantageClip > 0)) throw new ArgumentOutOfRangeException(nameof(AdvantageClip), AdvantageClip, "Must be positive.");
        if (!(AdvantageStdFloor >= 0) || double.IsInfinity(AdvantageStdFloor)) throw new ArgumentOutOfRangeException(nameof(AdvantageStdFloor), AdvantageStdFloor, "Must be a finite non-negative number.");
        if (!(CrowdingWeight >= 0) || double.IsInfinity(CrowdingWeight)) throw new ArgumentOutOfRangeException(nameof(CrowdingWeight), CrowdingWeight, "Must be a finite non-negative number.");
        if (CrowdingWindow < 0) throw new ArgumentOutOfRangeException(nameof(CrowdingWindow), CrowdingWindow, "Must be non-negative.");
        if (!(CrowdingBandwidth > 0) || double.IsInfinity(CrowdingBandwidth)) throw new ArgumentOutOfRangeException(nameof(CrowdingBandwidth), CrowdingBandwidth, "Must be a positive number.");
        if (StatBufferSize < 1) throw new ArgumentOutOfRangeException(nameof(StatBufferSize), StatBufferSize, "Must be positive.");
        if (StatMinCount < 1 || StatMinCount > StatBufferSize) throw new ArgumentOutOfRangeException(nameof(StatMinCount), StatMinCount, $"Must lie in 1 … StatBufferSize ({StatBufferSize}).");
        if (InnerEpochs < 1) throw new ArgumentOutOfRangeException(nameof(InnerEpochs), InnerEpochs, "Must be positive.");
        if (!(TimestepFraction > 0 && TimestepFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(TimestepFraction), TimestepFraction, "Must lie in (0, 1].");
        if (Mode == FineTuneMode.Ppo && (ExcludedFinalSteps < 0 || ExcludedFinalSteps >= SamplingSteps)) throw new ArgumentOutOfRangeException(nameof(ExcludedFinalSteps), ExcludedFinalSteps, $"Must lie in 0 … SamplingSteps − 1 ({SamplingSteps - 1}).");
        if (SamplingBatchSize < 0) throw new ArgumentOutOfRangeException(nameof(SamplingBatchSize), SamplingBatchSize, "Must be non-negative (0: the whole iteration in one batch).");
        if (TrainBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(TrainBatchSize), TrainBatchSize, "Must be positive.");
        if (GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "Must be positive.");
        if (!(GradientClipNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), GradientClipNorm, "Must be non-negative.");
        if (!(LearningRate > 0 && LearningRate <= 1)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must lie in (0, 1]: a larger step diverges at once.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be a finite non-negative number.");
        // β·KL overflows to NaN long before 1e308; past 1e6 the KL term alone holds the model at the base one anyway.
        if (!(KlWeight >= 0 && KlWeight <= MaxKlWeight)) throw new ArgumentOutOfRangeException(nameof(KlWeight), KlWeight, $"Must lie in [0, {MaxKlWeight:G}].");
        if (KlTarget is { } target)
        {
            if (!(target > 0) || double.IsInfinity(target)) throw new ArgumentOutOfRangeException(nameof(KlTarget), KlTarget, "Must be a finite positive number.");
            if (!(KlWeight > 0)) throw new ArgumentOutOfRangeException(nameof(KlWeight), KlWeight, "An adaptive KL (KlTarget set) needs a positive starting β.");
        }
        if (LoraRank < 0) throw new ArgumentOutOfRangeException(nameof(LoraRank), LoraRank, "Must be non-negative (0: full fine-tune).");
        if (LoraAlpha is { } alpha && !(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(LoraAlpha), LoraAlpha, "Must be positive.");
        if (LoraRank > 0 && LoraTargets == LoraTargets.None) throw new ArgumentOutOfRangeException(nameof(LoraTargets), LoraTargets, "Choose at least one target for LoRA, or LoraRank 0 for a full fine-tune.");
        if (BackpropSteps < 0 || BackpropSteps > SamplingSteps) throw new ArgumentOutOfRangeException(nameof(BackpropSteps), BackpropSteps, $"Must lie in 0 (every step) … SamplingSteps ({SamplingSteps}).");
        if (BackpropDetachedFinalSteps < 0 || BackpropDetachedFinalSteps >= EffectiveBackpropSteps)
            throw new ArgumentOutOfRangeException(nameof(BackpropDetachedFinalSteps), BackpropDetachedFinalSteps, $"Must lie in 0 … BackpropSteps − 1 ({EffectiveBackpropSteps - 1}): at least one differentiated step must reach the weights.");
        if (BackpropRewardSamples < 0) throw new ArgumentOutOfRangeException(nameof(BackpropRewardSamples), BackpropRewardSamples, "Must be non-negative (0: score each image once).");
        if (BackpropRewardShift < 0) throw new ArgumentOutOfRangeException(nameof(BackpropRewardShift), BackpropRewardShift, "Must be non-negative.");
        if (!(BackpropRewardNoise >= 0) || double.IsInfinity(BackpropRewardNoise)) throw new ArgumentOutOfRangeException(nameof(BackpropRewardNoise), BackpropRewardNoise, "Must be a finite non-negative number.");
        if (CheckpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "Must be non-negative.");
        if (SnapshotEvery < 0) throw new ArgumentOutOfRangeException(nameof(SnapshotEvery), SnapshotEvery, "Must be non-negative.");
        if (SnapshotEvery > 0 && string.IsNullOrWhiteSpace(SnapshotDirectory))
            throw new ArgumentOutOfRangeException(nameof(SnapshotDirectory), SnapshotDirectory, "Snapshots (SnapshotEvery > 0) need a SnapshotDirectory.");
        if (SampleGridEvery < 0) throw new ArgumentOutOfRangeException(nameof(SampleGridEvery), SampleGridEvery, "Must be non-negative.");
        if (SampleGridEvery > 0 && string.IsNullOrWhiteSpace(SampleGridDirectory))
            throw new ArgumentOutOfRangeException(nameof(SampleGridDirectory), SampleGridDirectory, "Sample grids (SampleGridEvery > 0) need a SampleGridDirectory.");
        if (SampleGridImagesPerPrompt < 1) throw new ArgumentOutOfRangeException(nameof(SampleGridImagesPerPrompt), SampleGridImagesPerPrompt, "Must be positive.");
    }
}
