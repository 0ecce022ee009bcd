using System.CommandLine;
using System.Globalization;
using Microsoft.ML.DiffNft.TraitClassification;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>diffnft train-trait-classifier</c>: train the held-out trait classifier that reads a collection's traits from
/// pixels, the rarity judge of <c>diffnft evaluate --trait-classifier</c> for collections without parts.
/// </summary>
internal static class TrainTraitClassifierCommand
{
    /// <summary>The model file name used when --out is a folder.</summary>
    public const string ModelFileName = "model.diffnft-traits";

    public static Command Create()
    {
        var defaults = new TraitClassifierOptions();
        var collection = new Option<string>("--collection") { Description = "Collection folder or file with traits and one image per token (anything the collection loader reads, atlases included).", Required = true };
        var minutes = new Option<double?>("--minutes") { Description = "Wall-time budget in minutes (training stops at this or --epochs, whichever comes first)." };
        var epochs = new Option<double?>("--epochs") { Description = $"Passes over the training tokens (default {defaults.Epochs.ToString(CultureInfo.InvariantCulture)}; unlimited when only --minutes is given)." };
        var batch = new Option<int>("--batch") { Description = "Real images per step.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak AdamW learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var width = new Option<int>("--width") { Description = "Channels of the first convolution stage (the others have 2× and 4×); a multiple of 4.", DefaultValueFactory = _ => defaults.Width };
        var holdout = new Option<double>("--holdout") { Description = "Share of tokens held out (by token id): never trained on, and the tokens the metrics are measured on.", DefaultValueFactory = _ => defaults.HoldoutFraction };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, the split, the batches and the augmentation.", DefaultValueFactory = _ => 0 };
        var threads = TrainRewardCommand.ThreadsOption();
        var heldOutImages = new Option<string?>("--held-out-images")
        {
            Description = "Also write the held-out tokens' images (<id>.png) to this folder: images the classifier never saw, " +
                          "a reference-like sample for checking 'diffnft evaluate --trait-classifier' (rarity_score ≈ 1).",
        };
        var output = new ModelOutputOption(ModelFileName);
        var command = new Command("train-trait-classifier",
            "Train the held-out trait classifier (one softmax head per trait type) on a collection's images and metadata; writes the model and its held-out metrics. " +
            "'diffnft evaluate --trait-classifier MODEL' then computes the rarity keys for collections without parts (Ctrl+C stops cleanly).")
        {
            collection, minutes, epochs, batch, lr, width, holdout, seed, threads, heldOutImages, output.Option, output.Overwrite,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            string path = parse.GetValue(collection)!;
            double? mins = parse.GetValue(minutes);
            double? epochLimit = parse.GetValue(epochs);
            if (epochLimit is { } e && !(e > 0)) throw new ArgumentException($"--epochs must be positive, got {e.ToString(CultureInfo.InvariantCulture)}.");
            TrainRewardCommand.ApplyThreads(parse.GetValue(threads));

            var c = NftCollectionLoader.Load(path, new NftCollectionLoadOptions { LoadCaptions = false });
            // Image sizes may differ here (the classifier resamples them); the trainer checks the rest with the same messages.
            CollectionRequirements.RequireTokens(c, 2, "train-trait-classifier", "one is held out");
            CollectionRequirements.RequireTraits(c, "train-trait-classifier", varying: true);
            CollectionRequirements.RequireImages(c, "train-trait-classifier");
            // Both outputs are probed, locked and checked once the inputs are known good, before the training.
            using var target = output.Open(parse, "train-trait-classifier");
            string? imageDir = parse.GetValue(heldOutImages);
            if (imageDir is not null && SameFolder(imageDir, parse.GetValue(output.Option)!))
                throw new ArgumentException($"--held-out-images must be another folder than --out; both are '{Path.GetFullPath(imageDir)}'.");
            using var images = imageDir is null ? null
                : OutputFolder.Open(imageDir, "train-trait-classifier held-out-images", parse.GetValue(output.Overwrite), claimed: [""]);
            target.Begin();
            using var cancel = new CliCancellation();
            var options = new TraitClassifierOptions
            {
                // A time budget alone means "train until the time is up": a large epoch count the clock always cuts.
                Epochs = epochLimit ?? (mins is null ? defaults.Epochs : 1e6),
                MaxTime = MinutesBudget.ToTimeSpan(mins),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Width = parse.GetValue(width),
                HoldoutFraction = parse.GetValue(holdout),
                Seed = parse.GetValue(seed),
                Progress = new SynchronousProgress<TraitClassifierTrainingProgress>(p => err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}  epoch {p.Epoch:F2}  loss {p.Loss:F4}  train accuracy {p.Accuracy:F3}  {p.Elapsed:hh\\:mm\\:ss}"))),
                CancellationToken = cancel.Token,
            };
            err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"training a trait classifier on {c.Count} images from '{path}' ({options.HoldoutFraction:P0} held out by token)"));
            var trainer = new TraitClassifierTrainer(options);
            if (images is not null)
            {
                var heldOut = trainer.Split(c).HeldOut;
                var files = heldOut.Select(token => FileName(token.TokenId) + ".png").ToList();
                images.Begin(files);
                for (int i = 0; i < heldOut.Count; i++) PngCodec.Save(heldOut[i].Image!, Path.Combine(images.Root, files[i]));
                // Held-out images of an earlier run with another split are removed: evaluate reads this folder whole.
                images.Complete(files);
                err.WriteLine($"wrote the {heldOut.Count} held-out images to {images.Root}");
            }
            using var model = trainer.Train(c);
            model.Save(target.Model);
            var mt = model.Metrics!;
            mt.Save(target.Metrics);
            target.Complete();
            foreach (var h in mt.Heads)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {h.TraitType,-16} accuracy {h.Accuracy:F3} (majority {h.MajorityAccuracy:F3})  present {h.PresentCount}: {(h.PresentAccuracy is { } pa ? pa.ToString("F3", CultureInfo.InvariantCulture) : "n/a")}  classes {h.Classes}"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held out ({mt.NHeldOut} tokens): mean accuracy {mt.MeanAccuracy:F3}  exact match {mt.ExactMatchRate:F3}  decodable {mt.DecodableRate:F3}  " +
                $"rarity MAE {mt.RarityMae:F4}  spearman {(mt.RaritySpearman is { } rs ? rs.ToString("F3", CultureInfo.InvariantCulture) : "n/a")}  " +
                $"({mt.Steps} steps, {mt.Epochs:F1} epochs, {mt.TrainSeconds / 60:F1} min)"));
            stdout.WriteLine($"wrote {target.Model} ({model.ParameterCount:N0} parameters, {model.Heads.Count} heads) and {target.Metrics}");
            return 0;
        }));
        return command;
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);

    /// <summary>A token id as a file name: characters a file name cannot hold become '_'.</summary>
    private static string FileName(string tokenId) =>
        string.Concat(tokenId.Select(ch => Path.GetInvalidFileNameChars().Contains(ch) || ch == '\\' ? '_' : ch));
}
