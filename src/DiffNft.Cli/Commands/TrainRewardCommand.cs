using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Reward;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft train-reward</c>: train the rarity reward ViT on a collection's images and trait rarity.</summary>
internal static class TrainRewardCommand
{
    /// <summary>The model file name used when --out is a folder.</summary>
    public const string ModelFileName = "model.diffnft-reward";

    public static Command Create()
    {
        var collection = new Option<string>("--collection") { Description = "Collection folder or file with one image per token (anything the collection loader reads, atlases included).", Required = true };
        var preset = new Option<VitPreset>("--preset") { Description = "ViT size: tiny, small (CPU default) or base.", DefaultValueFactory = _ => VitPreset.Small };
        var minutes = new Option<double?>("--minutes") { Description = "Wall-time budget in minutes (validation passes included)." };
        var steps = new Option<int?>("--steps") { Description = "Step budget (default 3000 when --minutes is not given; unlimited when it is)." };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Peak AdamW learning rate.", DefaultValueFactory = _ => 1e-3 };
        var validation = new Option<double>("--validation") { Description = "Share of tokens held out (by token id) for early stopping and metrics.", DefaultValueFactory = _ => 0.2 };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights, the split and the batches.", DefaultValueFactory = _ => 0 };
        var threads = ThreadsOption();
        var output = new ModelOutputOption(ModelFileName);
        var command = new Command("train-reward", "Train the rarity reward (a Vision Transformer that predicts trait rarity from pixels) on a collection; writes the model and its validation metrics (Ctrl+C stops cleanly).")
        {
            collection, preset, minutes, steps, batch, lr, validation, seed, threads, output.Option, output.Overwrite,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            string path = parse.GetValue(collection)!;
            double? mins = parse.GetValue(minutes);
            int? stepLimit = parse.GetValue(steps);
            ApplyThreads(parse.GetValue(threads));

            var c = NftCollectionLoader.Load(path);
            // Before rarity and training: each problem is named with its token, value or file (the data view would only lack a column).
            CollectionRequirements.RequireTokens(c, 2, "train-reward", "one is held out for validation");
            CollectionRequirements.RequireTraits(c, "train-reward", varying: true);
            CollectionRequirements.RequireImages(c, "train-reward");
            CollectionRequirements.RequireOneImageSize(c, "train-reward");
            var view = c.ToDataView(new NftCollectionDataViewOptions { IncludeCaptions = false });
            // The output is probed, locked and checked once the inputs are known good, before the training.
            using var target = output.Open(parse, "train-reward");
            target.Begin();
            var ml = new MLContext(seed: parse.GetValue(seed));
            // The per-trait probabilities feed the trainer's auxiliary per-trait information head.
            var probabilities = new RarityRewardTrainerOptions().TraitProbabilitiesColumnName;
            var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { ProbabilitiesColumnName = probabilities }).Fit(view);
            using var cancel = new CliCancellation();
            var options = new RarityRewardTrainerOptions
            {
                Preset = parse.GetValue(preset),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                ValidationFraction = parse.GetValue(validation),
                Seed = parse.GetValue(seed),
                MaxSteps = stepLimit ?? (mins is null ? 3000 : int.MaxValue),
                MaxTime = MinutesBudget.ToTimeSpan(mins),
                Progress = new SynchronousProgress<RarityRewardTrainingProgress>(p =>
                {
                    string val = p.ValidationLoss is { } v
                        ? string.Create(CultureInfo.InvariantCulture, $"  val loss {v:F4}  val spearman {p.ValidationSpearman:F3}") : "";
                    err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"step {p.Step}{(p.TotalSteps == int.MaxValue ? "" : "/" + p.TotalSteps)}  loss {p.Loss:F4}{val}  {p.Elapsed:hh\\:mm\\:ss}"));
                }),
                CancellationToken = cancel.Token,
            };
            err.WriteLine($"training a {options.Preset} rarity ViT on {c.Count} images from '{path}' ({options.ValidationFraction:P0} held out by token)");
            using var scorer = ml.Transforms.DiffNft.TrainRarityReward(options).Fit(rarity.Transform(view));
            var model = scorer.Model;
            model.Save(target.Model);
            model.Metrics!.Save(target.Metrics);
            target.Complete();
            var mt = model.Metrics;
            // An undefined metric (no rare token in the split, none predicted rare) prints as n/a, as it is null in metrics.json.
            static string F(double? v) => v?.ToString("F3", CultureInfo.InvariantCulture) ?? "n/a";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"validation ({mt.NValidation} tokens, {mt.NRare} rare): spearman {F(mt.Spearman)}  pearson {F(mt.Pearson)}  auc {F(mt.Auc)}  " +
                $"accuracy {F(mt.Accuracy)}  precision {F(mt.Precision)}  recall {F(mt.Recall)}  ({mt.Steps} steps, best {mt.BestStep}, {mt.TrainSeconds / 60:F1} min)"));
            stdout.WriteLine($"wrote {target.Model} ({model.ParameterCount:N0} parameters) and {target.Metrics}");
            return 0;
        }));
        return command;
    }

    /// <summary>The <c>--threads</c> option shared by the reward commands.</summary>
    internal static Option<int?> ThreadsOption() => new("--threads")
    {
        Description = "Torch intra-op threads, fixed for the whole run (default: one per core that other processes leave free, " +
                      "re-measured every 2 s; with more threads than free cores, every operation waits for its slowest thread).",
    };

    /// <summary>Applies a <c>--threads</c> value, if given.</summary>
    internal static void ApplyThreads(int? threads)
    {
        if (threads is not { } t) return;
        if (t < 1) throw new ArgumentException($"--threads must be at least 1, got {t}.");
        Microsoft.ML.DiffNft.Torch.TorchRuntime.SetThreads(t);
    }
}
