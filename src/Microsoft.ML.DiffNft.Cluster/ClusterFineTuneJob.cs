using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// A fine-tuning run submitted to a cluster by <see cref="DiffNftClusterClient.FineTuneAsync"/>: what
/// <c>diffnft finetune</c> takes, with paths every silo can read and an output folder they share.
/// </summary>
public sealed record ClusterFineTuneJob
{
    /// <summary>
    /// The model to fine-tune: a package diffusion model file, or a diffusers Stable Diffusion folder (LoRA on the UNet's
    /// attention, the rarity reward alone; it loads on each silo's default device, a GPU when one is usable).
    /// </summary>
    public required string BaseModelPath { get; init; }

    /// <summary>The rarity reward: a reward model file, or <c>builtin:NAME</c>.</summary>
    public required string Reward { get; init; }

    /// <summary>Which output of a rarity reward model is the reward.</summary>
    public RarityRewardKind RarityOutput { get; init; } = RarityRewardKind.ZScore;

    /// <summary>Weight of the rarity reward.</summary>
    public double RarityWeight { get; init; } = 1.0;

    /// <summary>Weight of the fidelity reward (the base model's denoising error).</summary>
    public double FidelityWeight { get; init; }

    /// <summary>The prompts.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>
    /// The fine-tuning options (PPO). <see cref="FineTuneOptions.SamplingBatchSize"/> is the unit handed to one sampler;
    /// 0 becomes <see cref="FineTuneOptions.ImagesPerPrompt"/>. A single-process run with the same value trains the same
    /// weights bit for bit when the staleness is 0. Progress and cancellation come from the submitting call.
    /// </summary>
    public FineTuneOptions Options { get; init; } = new();

    /// <summary>
    /// The tuned model file to write, with its checkpoint, log and sample grids beside it (OUT.ckpt, OUT.log.csv,
    /// OUT.samples/); for a Stable Diffusion folder, the folder to write (OUT/lora.safetensors, OUT/finetune.ckpt, OUT/log.csv).
    /// </summary>
    public required string OutputPath { get; init; }

    /// <summary>How a Stable Diffusion base is loaded on each silo (the command line's --variant, --precision, --negative-prompt).</summary>
    internal StableDiffusionLoadOptions? StableDiffusionLoad { get; init; }

    /// <summary>
    /// How many updates old the weights that sample an iteration may be: 0 samples every iteration with the newest
    /// weights (synchronous; the single-process numbers), 1–2 keep samplers busy while the learner updates, at the cost of
    /// off-policy trajectories that PPO's ratio corrects (and clips).
    /// </summary>
    public int MaxStaleness { get; init; }

    /// <summary>The options the job runs with: a positive sampling batch.</summary>
    public FineTuneOptions EffectiveOptions => Options.SamplingBatchSize > 0 ? Options : Options with { SamplingBatchSize = Options.ImagesPerPrompt };

    /// <summary>The job id: the output path's, so resubmitting the same output continues the same job.</summary>
    public string JobId => "finetune-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(OutputPath))))[..16].ToLowerInvariant();

    internal FineTuneJobSpec ToSpec()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(BaseModelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(Reward);
        ArgumentException.ThrowIfNullOrWhiteSpace(OutputPath);
        ArgumentNullException.ThrowIfNull(Prompts);
        if (Prompts.Count == 0) throw new ArgumentException("Fine-tuning needs at least one prompt.", nameof(Prompts));
        if (MaxStaleness is < 0 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxStaleness), MaxStaleness, "The staleness bound lies in 0 (synchronous) … 8.");
        var options = EffectiveOptions;
        options.Validate();
        if (options.Mode != FineTuneMode.Ppo)
            throw new ArgumentException("A cluster runs PPO: reward backpropagation differentiates through sampling and runs in one process.", nameof(Options));
        bool diffusers = StableDiffusionLoader.IsDiffusersFolder(BaseModelPath);
        if (diffusers) options = FineTuneJob.StableDiffusionOptions(options, FidelityWeight, Reward);
        string Full(string path) => path.StartsWith(RewardLoader.BuiltinPrefix, StringComparison.Ordinal) ? path : Path.GetFullPath(path);
        return new FineTuneJobSpec(JobId, Path.GetFullPath(BaseModelPath), Full(Reward), (int)RarityOutput, RarityWeight, FidelityWeight,
            Prompts.ToArray(), OptionsJson.Write(options with { CheckpointPath = null, LogPath = null, SampleGridDirectory = null }),
            Path.GetFullPath(OutputPath), MaxStaleness, diffusers ? OptionsJson.Write(StableDiffusionLoad ?? new StableDiffusionLoadOptions()) : null);
    }
}
