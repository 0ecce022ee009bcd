using System.CommandLine;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft train-diffusion</c>: train a text-to-image diffusion model on a collection.</summary>
internal static class TrainDiffusionCommand
{
    public static Command Create()
    {
        var collection = new Option<string>("--collection") { Description = "Collection folder or file with images (anything the collection loader reads).", Required = true };
        var preset = new Option<DiffusionPreset>("--preset") { Description = "Model size: tiny, small (CPU default) or base (GPU).", DefaultValueFactory = _ => DiffusionPreset.Small };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default 2000 when --minutes is not given)." };
        var minutes = new Option<double?>("--minutes") { Description = "Wall-time budget in minutes." };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate.", DefaultValueFactory = _ => 1e-3 };
        var schedule = new Option<LearningRateSchedule>("--lr-schedule") { Description = "Learning-rate schedule: cosine (warm-up, then decay to the end of the budget) or constant.", DefaultValueFactory = _ => LearningRateSchedule.Cosine };
        var minSnr = new Option<double>("--min-snr") { Description = "Min-SNR-γ loss weighting (0 turns it off).", DefaultValueFactory = _ => 5.0 };
        var emaDecay = new Option<double>("--ema-decay") { Description = "EMA decay of the saved weights.", DefaultValueFactory = _ => 0.999 };
        var phraseDropout = new Option<double>("--phrase-dropout") { Description = "Probability of leaving out each trait phrase of a caption while training.", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int>("--seed") { Description = "Seed of all random choices.", DefaultValueFactory = _ => 0 };
        var subject = new Option<string>("--subject") { Description = "Opening words of captions built from traits when the collection has none.", DefaultValueFactory = _ => "an nft" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (OUT.ckpt); a rerun resumes from it.", DefaultValueFactory = _ => 200 };
        var latent = new Option<bool>("--latent") { Description = "Latent diffusion: train a VAE (4× smaller latents) on the images first, then the UNet on its latents — for images above 64 px." };
        var vaeSteps = new Option<int>("--vae-steps") { Description = "With --latent: VAE training steps at most.", DefaultValueFactory = _ => new LatentOptions().MaxSteps };
        var vaeChannels = new Option<string>("--vae-channels") { Description = "With --latent: the VAE's channels per level, comma-separated; n levels make latents 2^(n−1) times smaller.", DefaultValueFactory = _ => string.Join(",", new LatentOptions().BlockChannels) };
        var vaeFraction = new Option<double>("--vae-fraction") { Description = "With --latent and --minutes: the share of the time the VAE may use.", DefaultValueFactory = _ => new LatentOptions().TimeFraction };
        var output = new Option<string>("--out") { Description = "Model file to write (replaced when it exists; its checkpoints are OUT.ckpt and OUT.ckpt.vae).", Required = true };
        var command = new Command("train-diffusion", "Train a text-to-image diffusion model on a collection's images and captions (resumable; Ctrl+C stops cleanly).")
        {
            collection, preset, steps, minutes, batch, lr, schedule, minSnr, emaDecay, phraseDropout, seed, subject, checkpointEvery, latent, vaeSteps, vaeChannels, vaeFraction, output,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            string path = parse.GetValue(collection)!;
            double? mins = parse.GetValue(minutes);
            int? stepLimit = parse.GetValue(steps);
            string outPath = parse.GetValue(output)!;
            using var cancel = new CliCancellation();
            var options = new DiffusionTrainerOptions
            {
                Preset = parse.GetValue(preset),
                Latent = parse.GetValue(latent) ? new LatentOptions
                {
                    MaxSteps = parse.GetValue(vaeSteps), TimeFraction = parse.GetValue(vaeFraction),
                    BlockChannels = SweepCommand.ParseList(parse.GetValue(vaeChannels)!, "--vae-channels")
                        .Select(c => c == Math.Floor(c) && c is >= 1 and <= 1024 ? (int)c : throw new FormatException($"--vae-channels: {c} is not a channel count (whole numbers 1 … 1024).")).ToArray(),
                } : null,
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                LearningRateSchedule = parse.GetValue(schedule),
                MinSnrGamma = parse.GetValue(minSnr),
                EmaDecay = parse.GetValue(emaDecay),
                PromptPhraseDropout = parse.GetValue(phraseDropout),
                Seed = parse.GetValue(seed),
                MaxSteps = stepLimit ?? (mins is null ? 2000 : int.MaxValue),
                MaxTime = MinutesBudget.ToTimeSpan(mins),
                CheckpointPath = outPath + ".ckpt",
                CheckpointEvery = parse.GetValue(checkpointEvery),
                Progress = new SynchronousProgress<DiffusionTrainingProgress>(p =>
                    err.WriteLine($"{(p.Phase == "vae" ? "vae " : "")}step {p.Step}{(p.TotalSteps == int.MaxValue ? "" : "/" + p.TotalSteps)}  loss {p.Loss:F4}  {p.Elapsed:hh\\:mm\\:ss}")),
                CancellationToken = cancel.Token,
            };
            // Settings first: a bad value is reported before the collection is read and its images decoded.
            options.Validate();
            var c = NftCollectionLoader.Load(path);
            // Before the model is built: an empty collection, a missing or odd-sized image is named now, not after a crash in training.
            CollectionRequirements.RequireTokens(c, 1, "train-diffusion");
            CollectionRequirements.RequireImages(c, "train-diffusion");
            CollectionRequirements.RequireOneImageSize(c, "train-diffusion");
            // The output is probed and locked before the training, so a folder in its place, a read-only folder, a full
            // disk or a second run training into the same file is reported now, not after the last step.
            using var target = OutputFile.Open(outPath, "train-diffusion");
            var captions = NftCaptions.ForCollection(c, parse.GetValue(subject)!);
            err.WriteLine($"training {options.Preset}{(options.Latent is null ? "" : " latent")} on {c.Count} images from '{path}' (checkpoint {options.CheckpointPath})");
            using var model = new DiffusionTrainer(options).Train(c.Tokens.Select(t => t.Image!).ToList(), captions);
            model.Save(outPath);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath} ({model.ParameterCount:N0} parameters)");
            return 0;
        }));
        return command;
    }
}
