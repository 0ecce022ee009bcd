using System.Globalization;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.Pipeline;

public sealed partial class QuickstartPipeline
{
    private string BundledDirectory() => Options.BundledModelsDirectory is { } dir
        ? (File.Exists(Path.Combine(dir, BundledModels.BaseModelFileName)) && File.Exists(Path.Combine(dir, BundledModels.RewardModelFileName))
            ? dir
            : throw new FileNotFoundException($"The bundled models folder '{dir}' lacks {BundledModels.BaseModelFileName} or {BundledModels.RewardModelFileName}."))
        : BundledModels.Require();

    private void BaseModelStage()
    {
        if (!Options.TrainsModels)
        {
            string source = Path.Combine(BundledDirectory(), BundledModels.BaseModelFileName);
            string fingerprint = StageFingerprint.Of(QuickstartStage.BaseModel, "bundled:" + StageFingerprint.OfFile(source));
            RunStage(QuickstartStage.BaseModel, fingerprint, new[] { Paths.BaseModel }, Array.Empty<string>(), context =>
            {
                AtomicFile.WriteAllBytes(Paths.BaseModel, File.ReadAllBytes(source));
                using var model = DiffusionModel.Load(Paths.BaseModel);
                return new StageOutcome($"bundled {Preset(model.Options.UNet)} model, {N(model.ParameterCount)} parameters",
                    new() { ["parameters"] = model.ParameterCount, ["bundled"] = 1 });
            });
            return;
        }

        var training = Options.BaseTraining;
        string trainFingerprint = StageFingerprint.Of(QuickstartStage.BaseModel, "train:" + StageFingerprint.Describe(training), Fingerprint(QuickstartStage.Collection));
        RunStage(QuickstartStage.BaseModel, trainFingerprint, new[] { Paths.BaseModel }, new[] { Paths.BaseCheckpoint }, context =>
        {
            var collection = NftCollectionLoader.Load(Paths.Collection);
            if (!collection.HasImages)
                throw new InvalidDataException($"The collection '{Paths.Collection}' lacks an image for some token; delete the folder and run again.");
            var captions = NftCaptions.ForCollection(collection, BuiltInCollection.Prompt);
            // Squares the model's levels divide: the working images as they are (32×32 Nouns, 36×36 CrypToadz), or centred
            // on the next such square with their edge pixels repeated; the generate stage crops back.
            var geometry = WorkingGeometry();
            var images = collection.Tokens.Select(t => geometry.ToTraining(t.Image!)).ToList();
            int total = training.MaxSteps;
            var options = training with
            {
                CheckpointPath = Paths.BaseCheckpoint,
                Resume = true,
                CancellationToken = Options.CancellationToken,
                Progress = new SynchronousProgress<DiffusionTrainingProgress>(p =>
                {
                    // A latent model's VAE trains first, in its share of the time; its steps are reported as such.
                    context.Report(p.Phase == "vae" ? 0 : Fraction(p.Step, total, context.Spent, training.MaxTime),
                        (p.Phase == "vae" ? FormattableString.Invariant($"VAE step {p.Step:N0}") : StepText(p.Step, total, training.MaxTime))
                        + FormattableString.Invariant($"  loss {p.Loss:F4}"));
                    context.SaveSpent();
                }),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(Paths.BaseModel)!);
            using var model = new DiffusionTrainer(options).Train(images, captions);
            model.Save(Paths.BaseModel);
            return new StageOutcome($"trained {Preset(model.Options.UNet)} model, {N(model.ParameterCount)} parameters",
                new() { ["parameters"] = model.ParameterCount, ["bundled"] = 0, ["max_steps"] = total, ["side"] = model.ImageSize });
        });
    }

    private void RewardModelStage()
    {
        if (!Options.TrainsModels)
        {
            string dir = BundledDirectory();
            string source = Path.Combine(dir, BundledModels.RewardModelFileName);
            string fingerprint = StageFingerprint.Of(QuickstartStage.RewardModel, "bundled:" + StageFingerprint.OfFile(source));
            RunStage(QuickstartStage.RewardModel, fingerprint, new[] { Paths.RewardModel, Paths.RewardMetrics }, Array.Empty<string>(), context =>
            {
                AtomicFile.WriteAllBytes(Paths.RewardModel, File.ReadAllBytes(source));
                using var model = RarityRewardModel.Load(Paths.RewardModel);
                // The metrics travel inside the model file too; the copy beside it is for people and tools.
                SaveMetrics(model, Paths.RewardMetrics);
                return RewardOutcome("bundled", model, bundled: true);
            });
            return;
        }

        var training = Options.RewardTraining;
        string trainFingerprint = StageFingerprint.Of(QuickstartStage.RewardModel, "train:" + StageFingerprint.Describe(training), Fingerprint(QuickstartStage.Collection));
        RunStage(QuickstartStage.RewardModel, trainFingerprint, new[] { Paths.RewardModel, Paths.RewardMetrics }, Array.Empty<string>(), context =>
        {
            var collection = NftCollectionLoader.Load(Paths.Collection);
            var view = collection.ToDataView(new NftCollectionDataViewOptions { IncludeCaptions = false });
            // The per-trait probabilities feed the trainer's auxiliary per-trait information head.
            var rarity = _mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { ProbabilitiesColumnName = training.TraitProbabilitiesColumnName }).Fit(view);
            int total = training.MaxSteps;
            var options = training with
            {
                CancellationToken = Options.CancellationToken,
                Progress = new SynchronousProgress<RarityRewardTrainingProgress>(p =>
                    context.Report(Fraction(p.Step, total, context.Spent, training.MaxTime),
                        StepText(p.Step, total, training.MaxTime) + string.Create(CultureInfo.InvariantCulture, $"  loss {p.Loss:F4}") +
                        (p.ValidationSpearman is { } s ? string.Create(CultureInfo.InvariantCulture, $"  val spearman {s:F3}") : ""))),
            };
            using var scorer = _mlContext.Transforms.DiffNft.TrainRarityReward(options).Fit(rarity.Transform(view));
            Directory.CreateDirectory(Path.GetDirectoryName(Paths.RewardModel)!);
            scorer.Model.Save(Paths.RewardModel);
            SaveMetrics(scorer.Model, Paths.RewardMetrics);
            return RewardOutcome("trained", scorer.Model, bundled: false);
        });
    }

    private static void SaveMetrics(RarityRewardModel model, string path)
    {
        if (model.Metrics is { } metrics) metrics.Save(path);
        else throw new InvalidDataException($"The reward model '{model.Name}' carries no validation metrics; a trained or bundled reward model always does.");
    }

    private static StageOutcome RewardOutcome(string how, RarityRewardModel model, bool bundled)
    {
        var numbers = new Dictionary<string, double> { ["parameters"] = model.ParameterCount, ["bundled"] = bundled ? 1 : 0 };
        string metrics = "";
        if (model.Metrics is { } m)
        {
            if (m.Spearman is { } s) numbers["validation_spearman"] = s;
            if (m.Auc is { } a) numbers["validation_auc"] = a;
            metrics = $"; validation Spearman {Show(m.Spearman)}, AUC {Show(m.Auc)}";
        }
        return new StageOutcome($"{how} ViT, {N(model.ParameterCount)} parameters{metrics}", numbers);
    }

    private static string Show(double? value) => value?.ToString("F3", CultureInfo.InvariantCulture) ?? "n/a";

    /// <summary>How far a step- and possibly time-limited training is: the further along of the two budgets.</summary>
    private static double Fraction(int step, int maxSteps, TimeSpan spent, TimeSpan? maxTime)
    {
        double f = maxSteps == int.MaxValue ? 0 : (double)step / maxSteps;
        if (maxTime is { } limit && limit > TimeSpan.Zero) f = Math.Max(f, spent / limit);
        return f;
    }

    /// <summary>"step 120/1,859", or "step 120 of a 45-minute budget" when the clock is the budget.</summary>
    private static string StepText(int step, int maxSteps, TimeSpan? maxTime) => maxSteps == int.MaxValue && maxTime is { } t
        ? string.Create(CultureInfo.InvariantCulture, $"step {step:N0} of a {t.TotalMinutes:G3}-minute budget")
        : string.Create(CultureInfo.InvariantCulture, $"step {step:N0}/{maxSteps:N0}");

    private static string Preset(UNetOptions unet)
    {
        string description = StageFingerprint.Describe(unet);
        foreach (var preset in Enum.GetValues<DiffusionPreset>())
            if (StageFingerprint.Describe(UNetOptions.For(preset) with { ImageSize = unet.ImageSize }) == description) return preset.ToString();
        return "custom";
    }
}
