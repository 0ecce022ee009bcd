using System.Diagnostics;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Benchmarks;

/// <summary>Results of <see cref="StableDiffusionBenchmark.Run"/>.</summary>
/// <param name="Options">What was measured.</param>
/// <param name="Device">The device type the networks ran on.</param>
/// <param name="DType">The networks' dtype.</param>
/// <param name="UNetParameters">Parameters of the UNet.</param>
/// <param name="LoraParameters">Trainable LoRA parameters.</param>
/// <param name="ImagesPerSecond">Plain generation (DDIM, η = 0, guidance, VAE decoding and conversion to images).</param>
/// <param name="TrajectoriesPerSecond">One PPO iteration — rollout with log-probabilities, reward on the decoded images, update — per trajectory.</param>
/// <param name="RolloutSeconds">The iteration's sampling.</param>
/// <param name="RewardSeconds">The iteration's VAE decoding and reward.</param>
/// <param name="UpdateSeconds">The iteration's PPO update.</param>
/// <param name="PeakMemory">Peak memory after both measurements.</param>
internal sealed record StableDiffusionBenchmarkResult(StableDiffusionBenchmarkOptions Options, DeviceType Device, ScalarType DType,
    long UNetParameters, long LoraParameters, double ImagesPerSecond, double TrajectoriesPerSecond, double RolloutSeconds,
    double RewardSeconds, double UpdateSeconds, PeakMemoryReading PeakMemory)
{
    /// <summary>
    /// The one-line summary the CLI prints last, e.g.
    /// <c>sd tiny cpu float32 64px steps=2 batch=4: images_per_s=… trajectories_per_s=… peak_memory_mib=… memory=process_peak_rss</c>.
    /// </summary>
    public string Summary() => FormattableString.Invariant(
        $"sd {Options.Config.ToString().ToLowerInvariant()} {Device.ToString().ToLowerInvariant()} {DType.ToString().ToLowerInvariant()} {Options.EffectiveResolution}px steps={Options.Steps} batch={Options.BatchSize}: ") +
        FormattableString.Invariant($"images_per_s={ImagesPerSecond:G4} trajectories_per_s={TrajectoriesPerSecond:G4} peak_memory_mib={PeakMemory.MiB:F0} memory={PeakMemory.Source}");
}

/// <summary>
/// Measures Stable Diffusion generation and PPO fine-tuning speed on <b>random weights</b> (speed does not depend on the
/// values, and nothing is downloaded): the model is built from the architecture presets in code, with a byte-level CLIP
/// tokenizer made in memory, and SD 1.5's DDIM scheduler. The PPO iteration is the fine-tuner's own — <see cref="RolloutSampler.Sample"/> with η = 1,
/// the VAE decoding the reward needs, <see cref="PpoUpdater.Update"/> with LoRA on the attention projections — with a
/// cheap stand-in reward (mean brightness), so the time is the model's and not a reward network's.
/// </summary>
internal static class StableDiffusionBenchmark
{
    /// <summary>Builds the model, warms up, and times one generation batch and one PPO iteration.</summary>
    /// <param name="options">What to measure.</param>
    /// <param name="log">Receives a line per phase (sizes and timings); the caller prints the summary.</param>
    public static StableDiffusionBenchmarkResult Run(StableDiffusionBenchmarkOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TorchRuntime.EnsureLoaded();
        var device = TorchRuntime.Resolve(options.Device);
        var dtype = StableDiffusionLoader.ComputeType(options.Precision, device);
        using var model = CreateRandom(options.Config, options.EffectiveResolution, device, dtype, options.Seed);
        log?.WriteLine($"sd {options.Config} random weights on {device.type} {dtype}: UNet {model.ParameterCount:N0} parameters, " +
                       $"{model.ImageSize}×{model.ImageSize} images, latents [{string.Join(", ", model.SampleShape)}]");
        int b = options.BatchSize;
        var prompts = Enumerable.Range(0, b).Select(i => $"a pixel art ape with laser eyes, trait {i}").ToList();
        var seeds = Enumerable.Range(0, b).Select(i => (long)options.Seed + i).ToList();

        var sampling = new SamplingOptions { Steps = options.Steps, GuidanceScale = options.GuidanceScale, Eta = 0, BatchSize = b };
        model.Generate(prompts, seeds, sampling with { Steps = 2 }); // warm-up: kernels, allocator, lazy initialisation
        var clock = Stopwatch.StartNew();
        model.Generate(prompts, seeds, sampling);
        Synchronize(device);
        double imagesPerSecond = b / clock.Elapsed.TotalSeconds;
        log?.WriteLine(FormattableString.Invariant($"generate {b} images, {options.Steps} DDIM steps, guidance {options.GuidanceScale}: {clock.Elapsed.TotalSeconds:F2} s, {imagesPerSecond:G4} images/s"));

        var fineTune = new FineTuneOptions
        {
            LoraRank = options.LoraRank,
            LoraTargets = LoraTargets.Attention,
            SamplingSteps = options.Steps,
            GuidanceScale = options.GuidanceScale,
            PromptsPerIteration = 1,
            ImagesPerPrompt = b,
            TrainBatchSize = options.TrainBatchSize,
            TimestepFraction = options.TimestepFraction,
            // The benchmark computes its own advantages; this only keeps a batch of 1 valid (group statistics need 2).
            Advantages = b > 1 ? AdvantageNormalization.Group : AdvantageNormalization.RunningPerPrompt,
            Seed = options.Seed,
        };
        fineTune.Validate();
        using var policy = FineTunePolicy.Create(model, fineTune);
        using var adam = new AdamW(policy.TrainableParameters, fineTune.LearningRate, weightDecay: fineTune.WeightDecay);
        log?.WriteLine($"LoRA rank {options.LoraRank} on the UNet's attention: {policy.Adapter!.LayerCount} layers, {policy.TrainableCount:N0} parameters");
        Iteration(policy, adam, fineTune with { SamplingSteps = 2 }, prompts, seeds, device, 0); // warm-up, including the backward pass
        var (rollout, reward, update) = Iteration(policy, adam, fineTune, prompts, seeds, device, 1);
        double total = rollout + reward + update;
        double trajectoriesPerSecond = b / total;
        log?.WriteLine(FormattableString.Invariant(
            $"PPO iteration, {b} trajectories × {options.Steps} steps (timestep fraction {options.TimestepFraction}, minibatch {options.TrainBatchSize}): {total:F2} s = rollout {rollout:F2} s + decode/reward {reward:F2} s + update {update:F2} s, {trajectoriesPerSecond:G4} trajectories/s"));
        return new StableDiffusionBenchmarkResult(options, device.type, dtype, model.ParameterCount, policy.TrainableCount, imagesPerSecond,
            trajectoriesPerSecond, rollout, reward, update, PeakMemory.Read(device));
    }

    /// <summary>One PPO iteration as the fine-tuner runs it; returns the seconds of its three phases.</summary>
    private static (double Rollout, double Reward, double Update) Iteration(FineTunePolicy policy, AdamW adam, FineTuneOptions o,
        IReadOnlyList<string> prompts, IReadOnlyList<long> seeds, Device device, int iteration)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        var iterationSeeds = seeds.Select(s => DiffusionTrainer.StepSeed(s, iteration)).ToArray();
        using var rollout = RolloutSampler.Sample(policy.Model, prompts, iterationSeeds, o.SamplingSteps, o.Eta, o.GuidanceScale);
        Synchronize(device);
        double sampled = clock.Elapsed.TotalSeconds;
        Tensor advantages;
        using (no_grad())
        using (policy.ReferenceScope())
        {
            // Mean brightness as the reward: the decoding is the real cost; a reward network's own time is not the model's.
            var rewards = rollout.FinalImages(policy.Model).mean([1, 2, 3]);
            advantages = (rewards - rewards.mean()).to_type(ScalarType.Float32);
        }
        Synchronize(device);
        double rewarded = clock.Elapsed.TotalSeconds;
        PpoUpdater.Update(policy, adam, rollout, advantages, o.KlWeight, o, DiffusionTrainer.StepSeed(o.EffectiveSeed, iteration));
        Synchronize(device);
        double updated = clock.Elapsed.TotalSeconds;
        return (sampled, rewarded - sampled, updated - rewarded);
    }

    /// <summary>
    /// A <see cref="StableDiffusionModel"/> with random weights (seeded by <paramref name="seed"/>) for
    /// <paramref name="config"/> at <paramref name="resolution"/> pixels, with a byte-level CLIP tokenizer (no vocabulary
    /// file needed) and Stable Diffusion's DDIM schedule. The caller disposes it.
    /// </summary>
    internal static StableDiffusionModel CreateRandom(StableDiffusionBenchConfig config, int resolution, Device device, ScalarType dtype, long seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        var vaeConfig = config == StableDiffusionBenchConfig.Sd15 ? AutoencoderKLConfig.StableDiffusion : AutoencoderKLConfig.Tiny;
        int factor = vaeConfig.DownscaleFactor;
        if (resolution % factor != 0)
            throw new ArgumentOutOfRangeException(nameof(resolution), resolution, $"The {config} VAE down-scales by {factor}: the resolution must be a multiple of {factor}.");
        int latent = resolution / factor;
        var unetConfig = (config == StableDiffusionBenchConfig.Sd15 ? UNet2DConditionConfig.StableDiffusion15 : UNet2DConditionConfig.Tiny) with { SampleSize = latent };
        var textConfig = config == StableDiffusionBenchConfig.Sd15 ? ClipTextConfig.StableDiffusion15 : ClipTextConfig.Tiny;
        // SD 1.5's scheduler for both: leading timesteps offset by 1. (With offset 0, as in the tiny test folder, the last
        // step goes from t = 0 to ᾱ_0 again: σ = 0, no log-probability, and PPO cannot run.)
        var schedule = new NoiseSchedule(NoiseScheduleKind.ScaledLinear, 1000, 0.00085, 0.012, TimestepSpacing.Leading, stepsOffset: 1);
        TorchRuntime.Seed(seed);
        return StableDiffusionLoader.Assemble(unetConfig, vaeConfig with { SampleSize = resolution }, textConfig, device, dtype,
            (unet, vae, text) => new StableDiffusionModel(ByteLevelTokenizer(), text, unet, vae, schedule, PredictionType.Epsilon, device, dtype));
    }

    /// <summary>
    /// A CLIP tokenizer with CLIP's byte alphabet and no merges: ids 0–255 the byte symbols, 256–511 the same with
    /// <c>&lt;/w&gt;</c>, 512 BOS, 513 EOS (also UNK and PAD). Every prompt encodes (one token per byte), within any
    /// Stable Diffusion vocabulary size.
    /// </summary>
    internal static ClipTokenizer ByteLevelTokenizer()
    {
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var symbols = ClipByteAlphabet.Symbols;
        for (int i = 0; i < symbols.Count; i++)
        {
            vocabulary[symbols[i]] = i;
            vocabulary[symbols[i] + "</w>"] = symbols.Count + i;
        }
        vocabulary[ClipTokenizerConfig.StartOfText] = 2 * symbols.Count;
        vocabulary[ClipTokenizerConfig.EndOfText] = 2 * symbols.Count + 1;
        return ClipTokenizer.Create(vocabulary, [], new ClipTokenizerConfig(), "the benchmark's byte-level vocabulary");
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
