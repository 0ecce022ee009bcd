using System.CommandLine;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>diffnft finetune --base &lt;diffusers folder&gt;</c>: the same fine-tuner with LoRA on the UNet's attention
/// projections, writing a folder — <c>lora.safetensors</c> (diffusers' layout, for <c>generate --lora</c> and for
/// diffusers' <c>load_lora_weights</c>), the checkpoint a rerun resumes from, the per-iteration log and the sample grids.
/// </summary>
internal static class StableDiffusionFineTune
{
    /// <summary>The adapter file in the output folder.</summary>
    public const string AdapterFile = "lora.safetensors";

    /// <summary>The checkpoint in the output folder (a rerun with the same settings resumes from it).</summary>
    public const string CheckpointFile = "finetune.ckpt";

    /// <summary>The per-iteration log in the output folder.</summary>
    public const string LogFile = "log.csv";

    /// <summary>The folder of fixed-seed sample grids in the output folder.</summary>
    public const string SamplesFolder = "samples";

    /// <summary>The files of a run writing into <paramref name="folder"/>.</summary>
    public static FineTuneFiles Files(string folder) => new(
        Path.Combine(folder, AdapterFile), Path.Combine(folder, CheckpointFile), Path.Combine(folder, LogFile), Path.Combine(folder, SamplesFolder));

    /// <summary>What the command passes in besides the parse result.</summary>
    /// <param name="BasePath">The diffusers folder.</param>
    /// <param name="RewardSpecification">--reward.</param>
    /// <param name="RewardOptions">How the reward file is loaded.</param>
    /// <param name="RarityWeight">--rarity-weight.</param>
    /// <param name="FidelityWeight">--fidelity-weight (must be 0).</param>
    /// <param name="Prompts">The prompts.</param>
    /// <param name="Options">The fine-tuning options from the command line.</param>
    /// <param name="OutputFolder">--out, a folder.</param>
    public sealed record Request(string BasePath, string RewardSpecification, RewardLoadOptions RewardOptions, double RarityWeight,
        double FidelityWeight, IReadOnlyList<string> Prompts, FineTuneOptions Options, string OutputFolder);

    /// <summary>Checks the request, fine-tunes and writes the folder; returns the exit code.</summary>
    public static int Run(ParseResult parse, StableDiffusionCliOptions load, Request r)
    {
        var err = parse.InvocationConfiguration.Error;
        // Checked before anything is loaded: each of these would otherwise fail minutes later, or deep in a library call.
        if (r.Options.LoraRank < 1)
            throw new ArgumentException($"--lora-rank {r.Options.LoraRank}: Stable Diffusion models are fine-tuned with LoRA only (a full fine-tune would copy the whole UNet); give --lora-rank 1 or more (the paper used 4).");
        if (r.FidelityWeight != 0)
            throw new ArgumentException($"--fidelity-weight {r.FidelityWeight}: the fidelity reward is the denoising likelihood under the package's own pixel models and is not available for Stable Diffusion; use --fidelity-weight 0 (the KL term to the base model keeps the images close to it).");
        if (r.RewardSpecification.Trim().StartsWith(RewardLoader.BuiltinPrefix, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--reward {r.RewardSpecification}: the built-in rewards score images with the package's own models and are not available for Stable Diffusion; give a rarity reward model file (train-reward).");

        // The default targets of the package's UNet (every linear layer) would also adapt SD's time embedding and feed-forward
        // layers; the attention projections are what the paper adapted and what every diffusers LoRA tool expects.
        var options = r.Options with { LoraTargets = LoraTargets.Attention };
        // Probed and locked before the models are loaded; the command owns the whole folder, so a rerun resumes in it.
        using var folder = OutputFolder.Open(r.OutputFolder, "finetune", overwrite: false, claimed: null,
            overwriteHint: "choose a new or empty --out folder");
        var files = Files(folder.Root);
        using var model = StableDiffusionLoader.Load(r.BasePath, load.LoadOptions(parse));
        var rarity = RewardLoader.Load(r.RewardSpecification, r.RewardOptions with { Device = parse.GetValue(load.Device) });
        try
        {
            var reward = new WeightedReward((new NamedReward("rarity", rarity), r.RarityWeight));
            using var cancel = new CliCancellation();
            var job = new FineTuneJob
            {
                BaseModel = model,
                Reward = reward,
                Prompts = r.Prompts,
                Files = files,
                Progress = new SynchronousProgress<FineTuneProgress>(p => err.WriteLine(p.ToString())),
                CancellationToken = cancel.Token,
                Options = options,
            };
            var effective = job.EffectiveOptions;
            err.WriteLine($"fine-tuning '{r.BasePath}' ({effective.Mode}, LoRA rank {effective.LoraRank} on the UNet's attention, {model.ImageSize}×{model.ImageSize} images) " +
                          $"for {reward.Name} on {r.Prompts.Count} prompt(s); checkpoint {effective.CheckpointPath}");
            folder.Begin();
            string adapter = job.RunDiffusersLora();
            folder.Complete();
            parse.InvocationConfiguration.Output.WriteLine($"wrote {adapter} (log {effective.LogPath}); generate with: diffnft generate --model {r.BasePath} --lora {adapter}");
            return 0;
        }
        finally
        {
            (rarity as IDisposable)?.Dispose();
        }
    }
}
