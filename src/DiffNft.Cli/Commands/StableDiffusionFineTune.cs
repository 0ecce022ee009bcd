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
        var options = FineTuneJob.StableDiffusionOptions(r.Options, r.FidelityWeight, r.RewardSpecification);
        // Probed and locked before the models are loaded; the command owns the whole folder, so a rerun resumes in it.
        using var folder = OutputFolder.Open(r.OutputFolder, "finetune", overwrite: false, claimed: null,
            overwriteHint: "choose a new or empty --out folder");
        var files = FineTuneFiles.InFolder(folder.Root);
        using var model = StableDiffusionLoader.Load(r.BasePath, load.LoadOptions(parse));
        var rarity = RewardLoader.Load(r.RewardSpecification, r.RewardOptions with { Device = parse.GetValue(load.Device) });
        try
        {
            var reward = FineTuneJob.StableDiffusionReward(rarity, r.RarityWeight);
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
