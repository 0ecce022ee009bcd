using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Fine-tunes a <see cref="DiffusionModel"/> to maximise a reward with reinforcement learning (PPO with the exact per-step
/// KL to the base model: DDPO and DPOK done right) or with reward backpropagation (DRaFT-K), with LoRA or a full
/// fine-tune, atomic checkpoints with bit-exact resume, a per-iteration log and fixed-seed sample grids.
/// </summary>
/// <remarks>
/// Every random draw of iteration i comes from generators seeded by (Seed, i) alone — the initial noise and the step noise
/// of every image, the prompts, the minibatch order and the trained timesteps — so a run resumed at iteration i draws
/// exactly what the uninterrupted run drew. docs/algorithms.md describes the algorithms and their choices.
/// </remarks>
internal sealed class DiffusionFineTuner
{
    private readonly FineTuneOptions _options;
    private readonly IRolloutSource _rollouts;

    /// <summary>Creates a fine-tuner that samples in this process.</summary>
    public DiffusionFineTuner(FineTuneOptions options)
        : this(options, null)
    {
    }

    /// <summary>
    /// Creates a fine-tuner whose PPO trajectories come from <paramref name="rollouts"/> (null: this process) — a cluster's
    /// sampler workers, for example. The update, the log and the checkpoints are the same whatever the source.
    /// </summary>
    internal DiffusionFineTuner(FineTuneOptions options, IRolloutSource? rollouts)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        if (rollouts is not null && _options.Mode != FineTuneMode.Ppo)
            throw new ArgumentException("Only PPO samples its trajectories apart from the update; reward backpropagation differentiates through sampling and runs in one process.", nameof(rollouts));
        _rollouts = rollouts ?? new LocalRolloutSource(_options);
    }

    /// <summary>
    /// Fine-tunes <paramref name="baseModel"/> on <paramref name="prompts"/> (duplicates are ignored) for
    /// <paramref name="reward"/> and returns a new model with the tuned weights (LoRA merged in). The base model is left as
    /// it was; while this runs its weights are frozen and, with LoRA, adapted through hooks, so do not use it elsewhere
    /// concurrently.
    /// </summary>
    public DiffusionModel FineTune(DiffusionModel baseModel, IReadOnlyList<string> prompts, IImageReward reward) =>
        (DiffusionModel)Run(baseModel, prompts, reward, policy => policy.Export());

    /// <summary>
    /// Fine-tunes any <see cref="DenoisingModel"/> and returns what <paramref name="export"/> makes of the trained policy
    /// (a merged model, or the LoRA adapter's weights for a model too large to copy).
    /// </summary>
    internal T Run<T>(DenoisingModel baseModel, IReadOnlyList<string> prompts, IImageReward reward, Func<FineTunePolicy, T> export)
    {
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(reward);
        var o = _options;
        var distinct = prompts.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length == 0) throw new ArgumentException("Fine-tuning needs at least one prompt.", nameof(prompts));
        for (int i = 0; i < distinct.Length; i++)
            if (distinct[i] is null) throw new ArgumentException($"Prompt {i} is null.", nameof(prompts));
        if (o.Mode == FineTuneMode.Backprop && !reward.IsDifferentiable)
            throw new ArgumentException($"Reward backpropagation needs a differentiable reward, and '{reward.Name}' is not (a component with a non-zero weight is not differentiable). Use FineTuneMode.Ppo.", nameof(reward));
        if (o.SamplingSteps > baseModel.Schedule.Timesteps)
            throw new ArgumentException($"FineTuneOptions.SamplingSteps ({o.SamplingSteps}) exceeds the base model's {baseModel.Schedule.Timesteps} timesteps.", nameof(baseModel));
        CheckStochasticSteps(baseModel.Schedule, o.SamplingSteps, o.Eta);
        if (o.SnapshotEvery > 0 && baseModel is not DiffusionModel)
            throw new ArgumentException($"FineTuneOptions.SnapshotEvery saves whole models, which a {baseModel.GetType().Name} is too large for; set it to 0.", nameof(baseModel));
        TorchRuntime.EnsureLoaded();

        var fingerprint = FineTuneFingerprint.From(o, reward.Name, WeightsSha256(baseModel), Sha256(Encoding.UTF8.GetBytes(string.Join("\n", distinct))));
        using var policy = FineTunePolicy.Create(baseModel, o);
        using var adam = new AdamW(policy.TrainableParameters, o.LearningRate, weightDecay: o.WeightDecay);
        var kl = new KlController(o.KlWeight, o.KlTarget);
        var tracker = new PerPromptStatTracker(o.StatBufferSize, o.StatMinCount);
        var log = new FineTuneLog(RewardScores.ComponentNames(reward).Concat(o.UsesCrowding ? [CrowdingColumn] : []));
        var guards = new Guards(o.UsesCrowding ? new CrowdingPenalty(o.CrowdingWindow, o.CrowdingBandwidth) : null);
        int iteration = 0;
        long queries = 0;
        double secondsBefore = 0;
        if (o.CheckpointPath is not null && o.Resume && File.Exists(o.CheckpointPath))
        {
            var state = FineTuneCheckpoint.Load(o.CheckpointPath, fingerprint, policy, adam);
            iteration = state.Iteration;
            kl.Beta = state.Beta;
            queries = state.RewardQueries;
            tracker.Restore(state.Tracker);
            log.Restore(state.LogRows);
            secondsBefore = state.Seconds;
            guards.RewardScale = state.RewardScale;
            guards.Crowding?.Restore(state.CrowdingBandwidth, state.CrowdingMemory);
        }
        var clock = Stopwatch.StartNew();
        TimeSpan Elapsed() => TimeSpan.FromSeconds(secondsBefore) + clock.Elapsed;
        void Save() => FineTuneCheckpoint.Save(o.CheckpointPath!, fingerprint,
            new FineTuneState(iteration, kl.Beta, queries, tracker.State(), log.Rows.ToList(), Elapsed().TotalSeconds,
                guards.RewardScale, guards.Crowding?.Bandwidth, guards.Crowding?.State()), policy, adam);

        if (o.SampleGridEvery > 0 && iteration == 0) WriteGrid(policy, distinct, 0);
        while (iteration < o.MaxIterations)
        {
            TorchRuntime.FitThreadsToLoad();
            if (o.CancellationToken.IsCancellationRequested)
            {
                if (o.CheckpointPath is not null) Save();
                o.CancellationToken.ThrowIfCancellationRequested();
            }
            if (o.MaxTime is { } limit && Elapsed() >= limit) break;

            double beta = kl.Beta;
            IterationStats stats;
            try
            {
                stats = RunIteration(policy, adam, reward, tracker, guards, distinct, iteration, beta);
            }
            catch (OperationCanceledException) when (o.CancellationToken.IsCancellationRequested)
            {
                // Cancellation is observed only before an iteration changes any state, so the checkpoint is consistent.
                if (o.CheckpointPath is not null) Save();
                throw;
            }
            // A diverged iteration has already changed the weights: stop before anything is saved or logged from it (the
            // last checkpoint, if any, is the state before it).
            foreach (double value in new[] { stats.Loss, stats.Kl, stats.RewardMean })
                Divergence.ThrowIfNotFinite(value, "Fine-tuning", iteration + 1, o.LearningRate,
                    $"KlWeight ({o.KlWeight:G3}) or GuidanceScale ({o.GuidanceScale:G3}), or check the reward");
            iteration++;
            queries += stats.RewardQueries;
            var progress = new FineTuneProgress(iteration, o.MaxIterations, stats.RewardMean, stats.RewardStd, stats.Components,
                stats.Kl, beta, stats.ClipFraction, stats.ApproxKl, stats.Loss, stats.GradientNorm, queries, Elapsed());
            kl.Update(stats.Kl);
            log.Add(progress);
            if (o.LogPath is not null) log.Write(o.LogPath);
            o.Progress?.Report(progress);
            if (o.SampleGridEvery > 0 && iteration % o.SampleGridEvery == 0) WriteGrid(policy, distinct, iteration);
            if (o.SnapshotEvery > 0 && iteration % o.SnapshotEvery == 0) SaveSnapshot(policy, iteration);
            if (o.CheckpointPath is not null && o.CheckpointEvery > 0 && iteration % o.CheckpointEvery == 0) Save();
        }
        if (o.CheckpointPath is not null) Save();
        return export(policy);
    }

    /// <summary>The log column of the mean crowding (<see cref="CrowdingPenalty"/>).</summary>
    internal const string CrowdingColumn = "crowding";

    /// <summary>The run's state of the guards against collapse: σ₀ and the crowding penalty's memory.</summary>
    private sealed class Guards(CrowdingPenalty? crowding)
    {
        /// <summary>σ₀: the standard deviation of the first iteration's training signal.</summary>
        public double? RewardScale { get; set; }

        public CrowdingPenalty? Crowding { get; } = crowding;
    }

    private IterationStats RunIteration(FineTunePolicy policy, AdamW adam, IImageReward reward, PerPromptStatTracker tracker,
        Guards guards, string[] distinct, int iteration, double beta)
    {
        var o = _options;
        ulong iterationSeed = DiffusionTrainer.StepSeed(o.EffectiveSeed, iteration);
        var plan = Plan(distinct, iteration);
        var batchPrompts = plan.Prompts;

        using var scope = NewDisposeScope();
        if (o.Mode == FineTuneMode.Backprop)
        {
            var (bstats, brewards, components) = RewardBackpropUpdater.Update(policy, adam, reward, batchPrompts, plan.Seeds, beta, o, o.CancellationToken);
            var (bm, bs) = PerPromptStatTracker.MeanStd(brewards.Select(r => (double)r).ToArray());
            return new IterationStats(bm, bs, components, bstats.Kl, 0, 0, bstats.Loss, bstats.GradientNorm, batchPrompts.Length);
        }

        using var scored = _rollouts.Collect(policy, reward, iteration, i => Plan(distinct, i), o.CancellationToken);
        if (!scored.Rollout.Prompts.SequenceEqual(batchPrompts, StringComparer.Ordinal))
            throw new InvalidOperationException($"The rollout source returned trajectories of other prompts than iteration {iteration + 1}'s plan.");
        var rollout = scored.Rollout;
        double[] rewards, signal;
        Dictionary<string, double> means;
        using (no_grad())
        {
            rewards = ToDoubles(scored.Total);
            signal = ToDoubles(RewardScores.TrainingSignal(reward, scored.Total, scored.Components, o.ComponentScaling));
            means = RewardScores.ComponentMeans(scored.Components);
        }
        // σ₀ is the spread of the base model's rewards: the unit of the advantage floor and of the crowding penalty.
        guards.RewardScale ??= PerPromptStatTracker.MeanStd(signal).Std;
        double scale = guards.RewardScale.Value;
        if (guards.Crowding is { } crowding)
        {
            double[] crowdingScores;
            using (no_grad())
            using (policy.ReferenceScope())
            using (var images = rollout.FinalImages(policy.Model))
            using (var features = CrowdingPenalty.Features(reward, images))
                crowdingScores = crowding.Measure(features);
            for (int i = 0; i < signal.Length; i++) signal[i] -= o.CrowdingWeight * scale * crowdingScores[i];
            means[CrowdingColumn] = crowdingScores.Average();
        }
        double minStd = o.AdvantageStdFloor * scale;
        var normalised = o.Advantages == AdvantageNormalization.Group
            ? PerPromptStatTracker.GroupAdvantages(batchPrompts, signal, minStd)
            : tracker.Update(batchPrompts, signal, minStd);
        var advantages = tensor(normalised.Select(a => (float)Math.Clamp(a, -o.AdvantageClip, o.AdvantageClip)).ToArray(), device: policy.Model.Device);
        var stats = PpoUpdater.Update(policy, adam, rollout, advantages, beta, o, iterationSeed);
        var (mean, std) = PerPromptStatTracker.MeanStd(rewards);
        return new IterationStats(mean, std, means, stats.Kl, stats.ClipFraction, stats.ApproxKl, stats.Loss, stats.GradientNorm, batchPrompts.Length);
    }

    /// <summary>
    /// The trajectories of <paramref name="iteration"/>: its prompts (<see cref="ChoosePrompts"/>, each repeated
    /// ImagesPerPrompt times) and one seed per trajectory, all from (Seed, iteration) alone.
    /// </summary>
    internal RolloutPlan Plan(string[] distinct, int iteration)
    {
        var o = _options;
        ulong iterationSeed = DiffusionTrainer.StepSeed(o.EffectiveSeed, iteration);
        var iterationPrompts = ChoosePrompts(distinct, o.PromptsPerIteration, SeededShuffle.Create(DiffusionTrainer.StepSeed((long)iterationSeed, -1)));
        var batchPrompts = iterationPrompts.SelectMany(p => Enumerable.Repeat(p, o.ImagesPerPrompt)).ToArray();
        var seeds = Enumerable.Range(0, batchPrompts.Length).Select(i => DiffusionTrainer.StepSeed((long)iterationSeed, i)).ToArray();
        return new RolloutPlan(iteration, batchPrompts, seeds);
    }

    /// <summary>
    /// Every sampling step must be stochastic (σ &gt; 0) for its log-probability and KL to exist. A step between two
    /// timesteps with the same ᾱ is not: with diffusers' "leading" spacing and <c>steps_offset</c> 0 the last step goes
    /// from t = 0 to ᾱ_0 again. Said before any work, with the fix.
    /// </summary>
    internal static void CheckStochasticSteps(NoiseSchedule schedule, int steps, double eta)
    {
        int stride = schedule.Timesteps / steps;
        foreach (int t in schedule.DdimTimesteps(steps))
            if (!(DdimStep.Sigma(schedule, t, t - stride, eta) > 0))
                throw new ArgumentException($"The sampling step from timestep {t} to {t - stride} has σ = 0 (ᾱ is the same at both ends), so it has no log-probability to train: " +
                    "the scheduler's timesteps end at 0. Use a scheduler config with steps_offset 1 (as Stable Diffusion's own) or timestep_spacing \"trailing\".");
    }

    /// <summary>
    /// The iteration's prompts: all of them (cycled to <paramref name="count"/>) when there are at most
    /// <paramref name="count"/>, otherwise a random subset without replacement.
    /// </summary>
    internal static string[] ChoosePrompts(string[] distinct, int count, Random rng)
    {
        if (distinct.Length <= count)
            return Enumerable.Range(0, count).Select(i => distinct[i % distinct.Length]).ToArray();
        return SeededShuffle.Permutation(distinct.Length, rng).Take(count).Select(i => distinct[i]).ToArray();
    }

    /// <summary>The file of the snapshot after <paramref name="iteration"/> iterations in <paramref name="directory"/>.</summary>
    public static string SnapshotPath(string directory, int iteration) =>
        Path.Combine(directory, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"iteration-{iteration:D5}.diffnft"));

    private void SaveSnapshot(FineTunePolicy policy, int iteration)
    {
        Directory.CreateDirectory(_options.SnapshotDirectory!);
        using var model = (DiffusionModel)policy.Export();
        model.Save(SnapshotPath(_options.SnapshotDirectory!, iteration));
    }

    private void WriteGrid(FineTunePolicy policy, string[] distinct, int iteration)
    {
        var o = _options;
        var gridPrompts = distinct.Take(4).SelectMany(p => Enumerable.Repeat(p, o.SampleGridImagesPerPrompt)).ToList();
        // The same seeds at every iteration, so grids compare the weights and nothing else.
        var seeds = Enumerable.Range(0, gridPrompts.Count).Select(i => (long)(DiffusionTrainer.StepSeed(o.EffectiveSeed, -1 - i) >> 1)).ToList();
        var images = policy.Model.Generate(gridPrompts, seeds,
            new SamplingOptions { Steps = o.SamplingSteps, GuidanceScale = o.GuidanceScale, Eta = 0 });
        PngCodec.Save(ContactSheet.Build(images, columns: o.SampleGridImagesPerPrompt, scale: 3),
            Path.Combine(o.SampleGridDirectory!, $"grid-{iteration:D5}.png"));
    }

    private static double[] ToDoubles(Tensor scores) => scores.cpu().data<float>().Select(r => (double)r).ToArray();

    private static string WeightsSha256(DenoisingModel model)
    {
        if (model is DiffusionModel own) return Sha256(ModelArchive.SaveTensors(own.Network.state_dict()));
        // Models of gigabytes cannot be serialised into one array: hash name, shape and bytes tensor by tensor.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, value) in model.Denoiser.state_dict())
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{string.Join(',', value.shape)}:{value.dtype}\n"));
            using var cpu = value.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
