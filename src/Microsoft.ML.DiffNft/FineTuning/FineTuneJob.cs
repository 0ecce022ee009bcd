using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// One fine-tuning run, set up the same way for the CLI, the quickstart, the reward-weight sweep and the catalog's
/// estimator: the options with the run's files, progress and cancellation, the <see cref="DiffusionFineTuner"/>, and the
/// tuned model saved when the run has files.
/// </summary>
internal sealed class FineTuneJob
{
    /// <summary>
    /// The model to fine-tune (left unchanged; not owned): the package's own <see cref="DiffusionModel"/> for
    /// <see cref="Run"/>, a <see cref="StableDiffusionModel"/> for <see cref="RunDiffusersLora"/>.
    /// </summary>
    public required DenoisingModel BaseModel { get; init; }

    /// <summary>The reward to maximise; <see cref="RarityAndFidelity"/> builds the usual one.</summary>
    public required IImageReward Reward { get; init; }

    public required IReadOnlyList<string> Prompts { get; init; }

    public required FineTuneOptions Options { get; init; }

    /// <summary>
    /// The run's files: the checkpoint is resumed from when it exists, and the tuned model is saved. Null for a run in
    /// memory, which keeps the options' own paths.
    /// </summary>
    public FineTuneFiles? Files { get; init; }

    /// <summary>Replaces the options' progress when set.</summary>
    public IProgress<FineTuneProgress>? Progress { get; init; }

    /// <summary>Replaces the options' cancellation token when set.</summary>
    public CancellationToken? CancellationToken { get; init; }

    /// <summary>Where PPO's trajectories come from (null: this process) — a cluster's samplers, for example.</summary>
    public IRolloutSource? Rollouts { get; init; }

    /// <summary>
    /// <paramref name="rarityWeight"/>·rarity + <paramref name="fidelityWeight"/>·fidelity, with the rarity reward named
    /// "rarity" and fidelity the <see cref="DenoisingFidelityReward"/> of <paramref name="baseModel"/>.
    /// </summary>
    public static WeightedReward RarityAndFidelity(DiffusionModel baseModel, IImageReward rarity, double rarityWeight, double fidelityWeight) =>
        WeightedReward.RarityAndFidelity(new NamedReward("rarity", rarity), rarityWeight, new DenoisingFidelityReward(baseModel), fidelityWeight);

    /// <summary>
    /// Checks a Stable Diffusion fine-tuning request before anything is loaded (each of these would otherwise fail minutes
    /// later, or deep in a library call) and returns its options with the LoRA on the UNet's attention projections — what
    /// the paper adapted and what every diffusers LoRA tool expects (the package UNet's default, every linear layer, would
    /// also adapt SD's time embedding and feed-forward layers).
    /// </summary>
    /// <exception cref="ArgumentException">A full fine-tune, a fidelity weight, or a built-in reward was asked for.</exception>
    public static FineTuneOptions StableDiffusionOptions(FineTuneOptions options, double fidelityWeight, string rewardSpecification)
    {
        if (options.LoraRank < 1)
            throw new ArgumentException($"LoRA rank {options.LoraRank} (--lora-rank): Stable Diffusion models are fine-tuned with LoRA only (a full fine-tune would copy the whole UNet); use a rank of 1 or more (the paper used 4).");
        if (fidelityWeight != 0)
            throw new ArgumentException($"Fidelity weight {fidelityWeight} (--fidelity-weight): the fidelity reward is the denoising likelihood under the package's own pixel models and is not available for Stable Diffusion; use 0 (the KL term to the base model keeps the images close to it).");
        if (rewardSpecification.Trim().StartsWith(RewardLoader.BuiltinPrefix, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"Reward {rewardSpecification} (--reward): the built-in rewards score images with the package's own models and are not available for Stable Diffusion; give a rarity reward model file (train-reward).");
        return options with { LoraTargets = LoraTargets.Attention };
    }

    /// <summary>The rarity reward of a Stable Diffusion run: the rarity model's score, weighted, named "rarity".</summary>
    public static WeightedReward StableDiffusionReward(IImageReward rarity, double rarityWeight) =>
        new((new NamedReward("rarity", rarity), rarityWeight));

    /// <summary>The options the fine-tuner runs with.</summary>
    public FineTuneOptions EffectiveOptions
    {
        get
        {
            var o = Options with
            {
                Progress = Progress ?? Options.Progress,
                CancellationToken = CancellationToken ?? Options.CancellationToken,
            };
            if (Files is null) return o;
            return o with
            {
                CheckpointPath = Files.Checkpoint,
                Resume = true,
                LogPath = Files.Log,
                SampleGridDirectory = Options.SampleGridEvery > 0 ? Files.SampleGrids : null,
            };
        }
    }

    /// <summary>Fine-tunes, saves the tuned model when the run has files, and returns it (the caller disposes it).</summary>
    public DiffusionModel Run()
    {
        if (BaseModel is not DiffusionModel own)
            throw new InvalidOperationException($"FineTuneJob.Run fine-tunes the package's own models; a {BaseModel.GetType().Name} is fine-tuned with RunDiffusersLora.");
        var tuned = new DiffusionFineTuner(EffectiveOptions, Rollouts).FineTune(own, Prompts, Reward);
        if (Files is null) return tuned;
        try
        {
            tuned.Save(Files.Model);
            return tuned;
        }
        catch
        {
            tuned.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fine-tunes a Stable Diffusion model with LoRA and writes the trained adapter to <see cref="FineTuneFiles.Model"/>
    /// in the layout diffusers' <c>load_lora_weights</c> reads (<see cref="DiffusersLoraFile"/>); returns that path. The
    /// base model is left without the adapter. A merged copy is not made: the adapter file is the result, kilobytes to
    /// megabytes beside a UNet of gigabytes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The job has no files, or the base model is not a Stable Diffusion model.</exception>
    /// <exception cref="ArgumentException">The options ask for a full fine-tune (LoraRank 0).</exception>
    public string RunDiffusersLora()
    {
        var files = Files ?? throw new InvalidOperationException("RunDiffusersLora writes the adapter to FineTuneJob.Files.Model; set Files.");
        if (BaseModel is not StableDiffusionModel)
            throw new InvalidOperationException($"RunDiffusersLora fine-tunes Stable Diffusion models; a {BaseModel.GetType().Name} is fine-tuned with Run.");
        if (Options.LoraRank < 1)
            throw new ArgumentException($"Stable Diffusion models are fine-tuned with LoRA only: LoraRank must be at least 1, got {Options.LoraRank}.", nameof(Options));
        return new DiffusionFineTuner(EffectiveOptions, Rollouts).Run(BaseModel, Prompts, Reward, policy =>
        {
            DiffusersLoraFile.Save(files.Model, policy.Adapter!);
            return files.Model;
        });
    }
}
