using System.CommandLine;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Cluster;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>diffnft finetune</c>: RL fine-tuning of a diffusion model for rarity and fidelity — a package model file, or a
/// diffusers Stable Diffusion folder with LoRA (<see cref="StableDiffusionFineTune"/>).
/// </summary>
internal static class FineTuneCommand
{
    /// <summary>The library's fine-tuning defaults, so the options' defaults cannot drift from <see cref="FineTuneOptions"/>.</summary>
    private static readonly FineTuneOptions Defaults = new();

    public static Command Create()
    {
        var ft = new FineTuneCliOptions(new FineTuneCliHelp());
        ft.BaseModel.Description = "Diffusion model file to fine-tune (from train-diffusion), or a diffusers Stable Diffusion folder (with model_index.json; LoRA only).";
        var load = new StableDiffusionCliOptions();
        var prompt = new Option<string?>("--prompt") { Description = "One prompt, e.g. \"a noun\" (default when --prompts is not given)." };
        var promptsFile = new Option<string?>("--prompts") { Description = "Text file with one prompt per line (blank lines and lines starting with # are skipped)." };
        var rarityWeight = new Option<double>("--rarity-weight") { Description = "Weight of the rarity reward (0 skips it).", DefaultValueFactory = _ => 1.0 };
        var fidelityWeight = new Option<double>("--fidelity-weight") { Description = "Weight of the fidelity reward: the base model's denoising error on the image (0 skips it).", DefaultValueFactory = _ => 0.0 };
        var klTarget = new Option<double?>("--kl-target") { Description = "Adapt β to keep the KL to the base model near this budget, in nats per image (the logged kl)." };
        var mode = new Option<FineTuneMode>("--mode") { Description = "ppo (policy gradient, any reward) or backprop (reward backpropagation, differentiable rewards).", DefaultValueFactory = _ => FineTuneMode.Ppo };
        var backpropSteps = new Option<int>("--backprop-steps") { Description = "Backprop mode: the last K sampler steps the reward gradient flows through (0: every step).", DefaultValueFactory = _ => Defaults.BackpropSteps };
        var detachedFinal = new Option<int>("--backprop-detached-final-steps") { Description = "Backprop mode: the last N differentiated steps pass the gradient through the sampler only, not into the weights.", DefaultValueFactory = _ => Defaults.BackpropDetachedFinalSteps };
        var rewardSamples = new Option<int>("--backprop-reward-samples") { Description = "Backprop mode: score each image as the mean over this many shifted, noised copies (0: once).", DefaultValueFactory = _ => Defaults.BackpropRewardSamples };
        var rewardShift = new Option<int>("--backprop-reward-shift") { Description = "Backprop mode: largest shift in pixels of those copies.", DefaultValueFactory = _ => Defaults.BackpropRewardShift };
        var rewardNoise = new Option<double>("--backprop-reward-noise") { Description = "Backprop mode: std of the pixel noise of those copies (images in [-1, 1]).", DefaultValueFactory = _ => Defaults.BackpropRewardNoise };
        var trainBatch = new Option<int>("--train-batch") { Description = "PPO/backprop: trajectories per minibatch (one optimizer step per minibatch).", DefaultValueFactory = _ => Defaults.TrainBatchSize };
        var innerEpochs = new Option<int>("--inner-epochs") { Description = "PPO: passes over each iteration's trajectories.", DefaultValueFactory = _ => Defaults.InnerEpochs };
        var timestepFraction = new Option<double>("--timestep-fraction") { Description = "PPO: share of the policy-gradient steps trained per minibatch.", DefaultValueFactory = _ => Defaults.TimestepFraction };
        var excludedFinal = new Option<int>("--excluded-final-steps") { Description = "PPO: the last N sampler steps get only the KL term, no policy gradient.", DefaultValueFactory = _ => Defaults.ExcludedFinalSteps };
        var clipRange = new Option<double>("--clip-range") { Description = "PPO clip range on the ratio of element-averaged step probabilities.", DefaultValueFactory = _ => Defaults.ClipRange };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Write a fixed-seed sample grid to OUT.samples/ every N iterations (0: never).", DefaultValueFactory = _ => 10 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints (OUT.ckpt); a rerun resumes from it.", DefaultValueFactory = _ => 10 };
        var samplingBatch = new Option<int>("--sampling-batch") { Description = "PPO: trajectories sampled and scored per network batch (0: a whole iteration; with --cluster: --images-per-prompt). The unit a cluster hands to one silo; the same value gives the same numbers in one process and on a cluster.", DefaultValueFactory = _ => Defaults.SamplingBatchSize };
        var cluster = new ClusterCliOptions();
        var staleness = new Option<int>("--staleness") { Description = "With --cluster: how many updates old the weights that sample an iteration may be (0: synchronous, the single-process numbers; 1–2 keep samplers busy during updates).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out")
        {
            Description = "Fine-tuned model file to write (a plain diffusion model, for diffnft generate). For a diffusers --base, a folder: " +
                          $"OUT/{FineTuneFiles.AdapterFile} (the LoRA adapter in diffusers' layout), OUT/{FineTuneFiles.CheckpointFile}, " +
                          $"OUT/{FineTuneFiles.LogFile} and OUT/{FineTuneFiles.SamplesFolder}/.",
            Required = true,
        };
        var command = new Command("finetune",
            "Fine-tune a diffusion model for rarity·W + fidelity·F with PPO and the exact KL to the base model, or with reward backpropagation. " +
            "Writes OUT, a checkpoint OUT.ckpt (rerunning resumes; Ctrl+C stops cleanly), a per-iteration log OUT.log.csv and sample grids in OUT.samples/.")
        {
            ft.BaseModel, ft.Reward, prompt, promptsFile, rarityWeight, fidelityWeight, ft.ComponentScaling, ft.KlWeight, klTarget, mode, ft.Iterations, ft.Minutes, ft.LoraRank,
            ft.PromptsPerIteration, ft.ImagesPerPrompt, ft.Steps, ft.Guidance, ft.LearningRate, backpropSteps, detachedFinal, rewardSamples, rewardShift, rewardNoise, ft.RarityOutput, trainBatch, innerEpochs, timestepFraction,
            excludedFinal, clipRange, ft.Seed, sampleEvery, checkpointEvery, samplingBatch, cluster.Cluster, cluster.ClusterId, staleness, output,
        };
        foreach (var option in ft.CollapseGuards) command.Options.Add(option);
        foreach (var option in load.All) command.Options.Add(option);
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            var prompts = ReadPrompts(parse.GetValue(prompt), parse.GetValue(promptsFile));
            string outPath = parse.GetValue(output)!;
            var fineTune = ft.ToOptions(parse, defaultIterations: 100) with
            {
                Mode = parse.GetValue(mode),
                KlTarget = parse.GetValue(klTarget),
                BackpropSteps = parse.GetValue(backpropSteps),
                BackpropDetachedFinalSteps = parse.GetValue(detachedFinal),
                BackpropRewardSamples = parse.GetValue(rewardSamples),
                BackpropRewardShift = parse.GetValue(rewardShift),
                BackpropRewardNoise = parse.GetValue(rewardNoise),
                TrainBatchSize = parse.GetValue(trainBatch),
                InnerEpochs = parse.GetValue(innerEpochs),
                TimestepFraction = parse.GetValue(timestepFraction),
                ExcludedFinalSteps = parse.GetValue(excludedFinal),
                ClipRange = parse.GetValue(clipRange),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                SampleGridEvery = parse.GetValue(sampleEvery),
                SamplingBatchSize = parse.GetValue(samplingBatch),
            };
            string basePath = parse.GetValue(ft.BaseModel)!;
            if (cluster.ToOptions(parse) is { } clusterOptions)
            {
                bool diffusers = StableDiffusionCliOptions.IsDiffusers(basePath, "--base");
                if (!diffusers) load.RejectForPackageModel(parse, basePath);
                return RunOnCluster(parse, err, clusterOptions, new ClusterFineTuneJob
                {
                    BaseModelPath = basePath,
                    Reward = parse.GetValue(ft.Reward)!,
                    RarityOutput = parse.GetValue(ft.RarityOutput),
                    RarityWeight = parse.GetValue(rarityWeight),
                    FidelityWeight = parse.GetValue(fidelityWeight),
                    Prompts = prompts,
                    Options = fineTune,
                    OutputPath = outPath,
                    MaxStaleness = parse.GetValue(staleness),
                    StableDiffusionLoad = diffusers ? load.LoadOptions(parse) : null,
                });
            }
            if (parse.GetValue(staleness) != 0) throw new ArgumentException("--staleness applies to --cluster runs only.");
            if (StableDiffusionCliOptions.IsDiffusers(basePath, "--base"))
                return StableDiffusionFineTune.Run(parse, load, new StableDiffusionFineTune.Request(basePath, parse.GetValue(ft.Reward)!,
                    ft.RewardLoadOptions(parse), parse.GetValue(rarityWeight), parse.GetValue(fidelityWeight), prompts, fineTune, outPath));
            load.RejectForPackageModel(parse, basePath);
            // Probed and locked before the models are loaded: the lock also covers OUT.ckpt, OUT.log.csv and OUT.samples/.
            using var target = OutputFile.Open(outPath, "finetune");
            using var inputs = FineTuneInputs.Load(basePath, parse.GetValue(ft.Reward)!, ft.RewardLoadOptions(parse) with { Device = parse.GetValue(load.Device) },
                parse.GetValue(load.Device));
            var composite = FineTuneJob.RarityAndFidelity(inputs.BaseModel, inputs.Rarity, parse.GetValue(rarityWeight), parse.GetValue(fidelityWeight));
            using var cancel = new CliCancellation();
            var job = new FineTuneJob
            {
                BaseModel = inputs.BaseModel,
                Reward = composite,
                Prompts = prompts,
                Files = FineTuneFiles.Beside(outPath),
                Progress = new SynchronousProgress<FineTuneProgress>(p => err.WriteLine(p.ToString())),
                CancellationToken = cancel.Token,
                Options = fineTune,
            };
            var options = job.EffectiveOptions;
            err.WriteLine($"fine-tuning '{parse.GetValue(ft.BaseModel)}' ({options.Mode}, {(options.LoraRank > 0 ? $"LoRA rank {options.LoraRank}" : "full")}) for {composite.Name} on {prompts.Count} prompt(s); checkpoint {options.CheckpointPath}");
            using var tuned = job.Run();
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} (log {options.LogPath})");
            return 0;
        }));
        return command;
    }

    private static int RunOnCluster(ParseResult parse, TextWriter err, DiffNftClusterOptions clusterOptions, ClusterFineTuneJob job)
    {
        using var cancel = new CliCancellation();
        var client = ClusterCliOptions.Connect(clusterOptions, cancel.Token);
        try
        {
            var silos = client.ActiveSilosAsync(cancel.Token).GetAwaiter().GetResult();
            var files = job.ToSpec().Files;
            err.WriteLine($"fine-tuning '{job.BaseModelPath}' on cluster '{clusterOptions.ClusterId}' ({silos.Count} silo(s): {string.Join(", ", silos)}), " +
                          $"{job.EffectiveOptions.SamplingBatchSize} trajectories per chunk, staleness {job.MaxStaleness}; checkpoint {files.Checkpoint}");
            var result = client.FineTuneAsync(job, new SynchronousProgress<string>(err.WriteLine), cancel.Token).GetAwaiter().GetResult();
            err.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"learner on {result.LearnerSilo}: {result.Trajectories} trajectories in chunks from {string.Join(", ", result.ChunksBySilo.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}; " +
                $"{result.ChunkBytes / 1e6:F1} MB of trajectories and {result.SnapshotBytes / 1e6:F2} MB of weights moved; {result.RetriedChunks} chunk(s) retried, {result.DuplicateChunks} duplicate(s) dropped; " +
                $"waiting for samplers {result.SamplingSeconds:F1} s (sampling {result.SamplerSeconds:F1} s summed over silos; calls' overhead {1000 * result.CallOverheadSeconds / Math.Max(1, result.ChunksBySilo.Values.Sum()):F0} ms per chunk), updating {result.UpdateSeconds:F1} s"));
            parse.InvocationConfiguration.Output.WriteLine($"wrote {files.Model} (log {files.Log})");
            return 0;
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static List<string> ReadPrompts(string? prompt, string? file)
    {
        if (prompt is not null && file is not null)
            throw new ArgumentException("Give either --prompt or --prompts, not both.");
        if (file is null) return new List<string> { prompt ?? "a noun" };
        if (!File.Exists(file)) throw new FileNotFoundException($"Prompts file '{file}' does not exist.", file);
        var prompts = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (prompts.Count == 0)
            throw new InvalidDataException($"Prompts file '{file}' has no prompts (expected one prompt per line; blank lines and lines starting with # are skipped).");
        return prompts;
    }
}
