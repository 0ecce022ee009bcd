using System.CommandLine;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft finetune</c>: RL fine-tuning of a diffusion model for rarity and fidelity.</summary>
internal static class FineTuneCommand
{
    /// <summary>The library's fine-tuning defaults, so the options' defaults cannot drift from <see cref="FineTuneOptions"/>.</summary>
    private static readonly FineTuneOptions Defaults = new();

    public static Command Create()
    {
        var baseModel = new Option<string>("--base") { Description = "Diffusion model file to fine-tune (from train-diffusion).", Required = true };
        var reward = new Option<string>("--reward") { Description = "Rarity reward: a reward model file, or builtin:NAME (builtin:fidelity needs no file).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "One prompt, e.g. \"a noun\" (default when --prompts is not given)." };
        var promptsFile = new Option<string?>("--prompts") { Description = "Text file with one prompt per line (blank lines and lines starting with # are skipped)." };
        var rarityWeight = new Option<double>("--rarity-weight") { Description = "Weight of the rarity reward (0 skips it).", DefaultValueFactory = _ => 1.0 };
        var fidelityWeight = new Option<double>("--fidelity-weight") { Description = "Weight of the fidelity reward: the base model's denoising error on the image (0 skips it).", DefaultValueFactory = _ => 0.0 };
        var klWeight = new Option<double>("--kl-weight") { Description = "β of the exact per-step KL to the base model (the starting β with --kl-target).", DefaultValueFactory = _ => 0.01 };
        var scaling = new Option<RewardComponentScaling>("--component-scaling") { Description = "standardized: each reward component is standardised over the batch before weighting, so the weights trade the objectives off whatever their units; raw: Σ w·R as scored.", DefaultValueFactory = _ => Defaults.ComponentScaling };
        var klTarget = new Option<double?>("--kl-target") { Description = "Adapt β to keep the per-step KL near this budget." };
        var mode = new Option<FineTuneMode>("--mode") { Description = "ppo (policy gradient, any reward) or backprop (reward backpropagation, differentiable rewards).", DefaultValueFactory = _ => FineTuneMode.Ppo };
        var iterations = new Option<int?>("--iterations") { Description = "Iteration budget (default 100 when --minutes is not given)." };
        var minutes = new Option<double?>("--minutes") { Description = "Wall-time budget in minutes." };
        var loraRank = new Option<int>("--lora-rank") { Description = "LoRA rank; 0 fine-tunes every weight.", DefaultValueFactory = _ => Defaults.LoraRank };
        var promptsPerIteration = new Option<int>("--prompts-per-iteration") { Description = "Prompts sampled per iteration.", DefaultValueFactory = _ => Defaults.PromptsPerIteration };
        var imagesPerPrompt = new Option<int>("--images-per-prompt") { Description = "Images per prompt per iteration (K).", DefaultValueFactory = _ => Defaults.ImagesPerPrompt };
        var steps = new Option<int>("--steps") { Description = "DDIM steps per trajectory.", DefaultValueFactory = _ => Defaults.SamplingSteps };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale of the policy.", DefaultValueFactory = _ => Defaults.GuidanceScale };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate (1e-2 for LoRA; about 1e-4 for a full fine-tune).", DefaultValueFactory = _ => Defaults.LearningRate };
        var backpropSteps = new Option<int>("--backprop-steps") { Description = "Backprop mode: the last K sampler steps the reward gradient flows through (0: every step).", DefaultValueFactory = _ => Defaults.BackpropSteps };
        var detachedFinal = new Option<int>("--backprop-detached-final-steps") { Description = "Backprop mode: the last N differentiated steps pass the gradient through the sampler only, not into the weights.", DefaultValueFactory = _ => Defaults.BackpropDetachedFinalSteps };
        var rewardSamples = new Option<int>("--backprop-reward-samples") { Description = "Backprop mode: score each image as the mean over this many shifted, noised copies (0: once).", DefaultValueFactory = _ => Defaults.BackpropRewardSamples };
        var rewardShift = new Option<int>("--backprop-reward-shift") { Description = "Backprop mode: largest shift in pixels of those copies.", DefaultValueFactory = _ => Defaults.BackpropRewardShift };
        var rewardNoise = new Option<double>("--backprop-reward-noise") { Description = "Backprop mode: std of the pixel noise of those copies (images in [-1, 1]).", DefaultValueFactory = _ => Defaults.BackpropRewardNoise };
        var rarityOutput = new Option<RarityRewardKind>("--rarity-output") { Description = "Which output of the rarity model is the reward: zscore (the standardised predicted score), rarelogit or rarelogprobability.", DefaultValueFactory = _ => RarityRewardKind.ZScore };
        var trainBatch = new Option<int>("--train-batch") { Description = "PPO/backprop: trajectories per minibatch (one optimizer step per minibatch).", DefaultValueFactory = _ => Defaults.TrainBatchSize };
        var innerEpochs = new Option<int>("--inner-epochs") { Description = "PPO: passes over each iteration's trajectories.", DefaultValueFactory = _ => Defaults.InnerEpochs };
        var timestepFraction = new Option<double>("--timestep-fraction") { Description = "PPO: share of the policy-gradient steps trained per minibatch.", DefaultValueFactory = _ => Defaults.TimestepFraction };
        var excludedFinal = new Option<int>("--excluded-final-steps") { Description = "PPO: the last N sampler steps get only the KL term, no policy gradient.", DefaultValueFactory = _ => Defaults.ExcludedFinalSteps };
        var clipRange = new Option<double>("--clip-range") { Description = "PPO clip range on the ratio of element-averaged step probabilities.", DefaultValueFactory = _ => Defaults.ClipRange };
        var seed = new Option<int>("--seed") { Description = "Seed of all random choices.", DefaultValueFactory = _ => 0 };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Write a fixed-seed sample grid to OUT.samples/ every N iterations (0: never).", DefaultValueFactory = _ => 10 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints (OUT.ckpt); a rerun resumes from it.", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--out") { Description = "Fine-tuned model file to write (a plain diffusion model, for diffnft generate).", Required = true };
        var command = new Command("finetune",
            "Fine-tune a diffusion model for rarity·W + fidelity·F with PPO and the exact KL to the base model, or with reward backpropagation. " +
            "Writes OUT, a checkpoint OUT.ckpt (rerunning resumes; Ctrl+C stops cleanly), a per-iteration log OUT.log.csv and sample grids in OUT.samples/.")
        {
            baseModel, reward, prompt, promptsFile, rarityWeight, fidelityWeight, scaling, klWeight, klTarget, mode, iterations, minutes, loraRank,
            promptsPerIteration, imagesPerPrompt, steps, guidance, lr, backpropSteps, detachedFinal, rewardSamples, rewardShift, rewardNoise, rarityOutput, trainBatch, innerEpochs, timestepFraction,
            excludedFinal, clipRange, seed, sampleEvery, checkpointEvery, output,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            var prompts = ReadPrompts(parse.GetValue(prompt), parse.GetValue(promptsFile));
            string outPath = parse.GetValue(output)!;
            double? mins = parse.GetValue(minutes);
            int? iterationLimit = parse.GetValue(iterations);
            if (mins is { } m && !(m > 0)) throw new ArgumentException($"--minutes must be positive, got {m}.");
            using var inputs = FineTuneInputs.Load(parse.GetValue(baseModel)!, parse.GetValue(reward)!, new RewardLoadOptions { RarityOutput = parse.GetValue(rarityOutput) });
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
                Options = new FineTuneOptions
                {
                    Mode = parse.GetValue(mode),
                    MaxIterations = iterationLimit ?? (mins is null ? 100 : int.MaxValue),
                    MaxTime = mins is null ? null : TimeSpan.FromMinutes(mins.Value),
                    PromptsPerIteration = parse.GetValue(promptsPerIteration),
                    ImagesPerPrompt = parse.GetValue(imagesPerPrompt),
                    SamplingSteps = parse.GetValue(steps),
                    GuidanceScale = parse.GetValue(guidance),
                    LearningRate = parse.GetValue(lr),
                    ComponentScaling = parse.GetValue(scaling),
                    KlWeight = parse.GetValue(klWeight),
                    KlTarget = parse.GetValue(klTarget),
                    LoraRank = parse.GetValue(loraRank),
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
                    Seed = parse.GetValue(seed),
                    CheckpointEvery = parse.GetValue(checkpointEvery),
                    SampleGridEvery = parse.GetValue(sampleEvery),
                },
            };
            var options = job.EffectiveOptions;
            err.WriteLine($"fine-tuning '{parse.GetValue(baseModel)}' ({options.Mode}, {(options.LoraRank > 0 ? $"LoRA rank {options.LoraRank}" : "full")}) for {composite.Name} on {prompts.Count} prompt(s); checkpoint {options.CheckpointPath}");
            using var tuned = job.Run();
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} (log {options.LogPath})");
            return 0;
        }));
        return command;
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
