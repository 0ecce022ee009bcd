using System.Globalization;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Pipeline;

public sealed partial class QuickstartPipeline
{
    /// <summary>Seed of the first validation image: far from the generation seeds, so validation never sees the final sets' images.</summary>
    internal const long ValidationSeed = 1_000_000_000;

    /// <summary>
    /// Generates <see cref="QuickstartOptions.ValidationSampleCount"/> images from the base model and from every saved
    /// iteration (and the last one), evaluates each against the collection, marks the Pareto set, applies the FID budget
    /// (copying the chosen iteration over the tuned model) and writes <c>validation.csv</c>.
    /// </summary>
    /// <param name="context">The fine-tuning stage's context (progress, cancellation).</param>
    /// <param name="iterations">Iterations the run finished.</param>
    /// <returns>The trajectory, and the number of images per model (N, or the collection's size when that is smaller).</returns>
    private (List<ValidationPoint> Points, int N) Validate(StageContext context, int iterations)
    {
        var o = Options;
        var ct = o.CancellationToken;
        var models = new List<(int Iteration, string Path)> { (0, Paths.BaseModel) };
        for (int k = o.ValidationEvery; k <= iterations; k += o.ValidationEvery)
            models.Add((k, DiffusionFineTuner.SnapshotPath(Paths.Snapshots, k)));
        if (iterations % o.ValidationEvery != 0) models.Add((iterations, Paths.TunedModel));
        var missing = models.FirstOrDefault(m => !File.Exists(m.Path));
        if (missing.Path is not null)
            throw new InvalidDataException($"The model of iteration {missing.Iteration} to validate, '{missing.Path}', is missing; delete '{Paths.TunedCheckpoint}' and run again.");

        var reference = EvaluationData.LoadReference(Paths.Collection, ct);
        int n = Math.Min(o.ValidationSampleCount, reference.Count);
        var prompts = Enumerable.Repeat(o.GenerationPrompt!, n).ToList();
        var seeds = Enumerable.Range(0, n).Select(i => ValidationSeed + i).ToList();
        using var owned = o.ResNet18Extractor is null ? new ResNet18FeatureExtractor() : null;
        var resnet = o.ResNet18Extractor ?? owned!;
        using var judge = LoadJudge();
        var points = new List<ValidationPoint>();
        for (int i = 0; i < models.Count; i++)
        {
            var (iteration, path) = models[i];
            context.Report((double)i / models.Count, string.Create(CultureInfo.InvariantCulture, $"validating iteration {iteration} ({n} images)"));
            using var model = DiffusionModel.Load(path);
            var images = GenerateAtWorkingSize(model, prompts, seeds);
            // One KID subset: validation compares FID and the rarity keys; KID's spread needs more images than a small N.
            var metrics = _mlContext.NftGeneration.Evaluate(images, reference, EvaluatorOptions(n, kidSubsets: 1, resnet, judge));
            points.Add(ValidationPoint.From(iteration, metrics));
        }
        points = ValidationTrajectory.MarkPareto(points);
        if (o.FidBudget is { } budget)
        {
            int chosen = ValidationTrajectory.Choose(points, budget);
            points = points.Select(p => p with { Chosen = p.Iteration == chosen }).ToList();
            if (chosen != iterations)
                AtomicFile.WriteAllBytes(Paths.TunedModel, File.ReadAllBytes(models.Single(m => m.Iteration == chosen).Path));
        }
        ValidationTrajectory.Save(points, Paths.ValidationCsv);
        return (points, n);
    }
}
