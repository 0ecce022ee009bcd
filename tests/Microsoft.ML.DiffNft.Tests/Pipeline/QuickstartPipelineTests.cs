using System.Text.Json;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>
/// The quickstart pipeline end to end with tiny settings: a 40-token collection, Tiny models trained for a few steps,
/// 3 fine-tuning iterations of 2 images, N = 6. What is checked: the report's keys, skipping of finished stages on a
/// rerun, and that interrupted-then-resumed runs give exactly the models of an uninterrupted one.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class QuickstartPipelineTests(ITestOutputHelper output)
{
    // One ResNet-18 for every run of these tests (loading it is most of a tiny run's time); never disposed, like the
    // other process-wide test fixtures.
    private static readonly Lazy<ResNet18FeatureExtractor> s_resnet = new(() => new ResNet18FeatureExtractor());

    internal static QuickstartOptions Tiny(string dir, string cache) => new()
    {
        ResNet18Extractor = s_resnet.Value,
        OutputDirectory = dir,
        Collection = new NounsCollectionOptions
        {
            Count = 40,
            Seed = 3,
            Weights = NounsLayerWeights.Zipf(1.0),
            Parts = NounsSubset.Parse("bodies=2,accessories=3,heads=3,glasses=2"),
        },
        FromScratch = true,
        BaseTraining = new DiffusionTrainerOptions
        {
            Preset = DiffusionPreset.Tiny, MaxSteps = 4, BatchSize = 4, WarmupSteps = 1, CheckpointEvery = 1, ReportEvery = 1, Seed = 2,
            Device = DiffNftDevice.Cpu,
        },
        RewardTraining = new RarityRewardTrainerOptions { Preset = VitPreset.Tiny, MaxSteps = 4, BatchSize = 8, Seed = 2, ReportEvery = 1, Device = DiffNftDevice.Cpu },
        FineTune = new FineTuneOptions
        {
            MaxIterations = 3, PromptsPerIteration = 1, ImagesPerPrompt = 2, SamplingSteps = 2, TrainBatchSize = 2, CheckpointEvery = 1, Seed = 4,
        },
        FineTuneTime = null,
        SampleCount = 6,
        Generation = new SamplingOptions { Steps = 2, BatchSize = 6 },
        KidSubsets = 4,
        ReferenceCacheDirectory = cache,
    };

    private static readonly string[] StageNames = { "collection", "rarity", "judge", "base-model", "reward-model", "finetune", "generate", "evaluate", "report" };

    [Fact]
    public void RunsEndToEndWritesTheReportAndARerunSkipsFinishedStages()
    {
        using var dir = new TempDir();
        var options = Tiny(Path.Combine(dir.Path, "qs"), Path.Combine(dir.Path, "cache"));
        var events = new List<QuickstartProgress>();
        var first = new QuickstartPipeline(options with { Progress = new SynchronousProgress<QuickstartProgress>(events.Add) }).Run();

        foreach (var s in first.Stages) output.WriteLine($"{s.Name,-13} {s.Elapsed.TotalSeconds,6:F2} s  {s.Summary}");
        Assert.Equal(StageNames, first.Stages.Select(s => s.Name));
        Assert.All(first.Stages, s => Assert.False(s.Skipped));
        Assert.Equal(StageNames, events.Where(e => e.Kind == QuickstartProgressKind.Completed).Select(e => QuickstartStages.Name(e.Stage)));
        Assert.Equal(40, first[QuickstartStage.Collection].Numbers["tokens"]);
        Assert.Equal(3, first[QuickstartStage.FineTune].Numbers["iterations"]);
        Assert.Equal(6, Directory.GetFiles(Path.Combine(first.Paths.GeneratedTuned, "images")).Length);

        // report.json: base and tuned metric objects exactly as the evaluation wrote them, stages, settings.
        using (var report = JsonDocument.Parse(File.ReadAllText(first.Paths.ReportJson)))
        {
            var root = report.RootElement;
            Assert.Equal(QuickstartReport.FormatName, root.GetProperty("format").GetString());
            foreach (var label in new[] { "base", "tuned" })
            {
                var m = root.GetProperty(label);
                foreach (var key in new[] { "n", "fid_resnet18", "kid_resnet18", "kid_std", "rarity_score", "rare_rate", "decodable_rate", "novelty", "duplicate_rate", "diversity" })
                    Assert.True(m.TryGetProperty(key, out _), $"report.json {label} lacks '{key}'");
                Assert.Equal(6, m.GetProperty("n").GetInt32());
                Assert.Equal(JsonValueKind.Number, m.GetProperty("fid_resnet18").ValueKind);
                // The decoder is available for a Nouns reference, so rare_rate is a share (0 when nothing decodes), never null.
                double rare = m.GetProperty("rare_rate").GetDouble();
                Assert.InRange(rare, 0, 1);
                using var file = JsonDocument.Parse(File.ReadAllText(label == "base" ? first.Paths.BaseMetrics : first.Paths.TunedMetrics));
                Assert.Equal(file.RootElement.GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""),
                             m.GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
            }
            Assert.Equal(first.BaseMetrics.FidResNet18, root.GetProperty("base").GetProperty("fid_resnet18").GetDouble());
            Assert.Equal(StageNames, root.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
            Assert.Equal(6, root.GetProperty("settings").GetProperty("n").GetInt32());
            Assert.True(root.GetProperty("settings").GetProperty("from_scratch").GetBoolean());
            Assert.Equal(3, root.GetProperty("settings").GetProperty("fine_tune").GetProperty("max_iterations").GetInt32());
            // The α curve: the update scaled by 0.25, 0.5 and 0.75, each evaluated like the two models and saved beside them.
            var curve = root.GetProperty("alpha_curve").EnumerateArray().ToList();
            Assert.Equal(new[] { 0.25, 0.5, 0.75 }, curve.Select(p => p.GetProperty("alpha").GetDouble()));
            foreach (var point in curve)
            {
                double a = point.GetProperty("alpha").GetDouble();
                Assert.Equal(6, Directory.GetFiles(Path.Combine(first.Paths.GeneratedAlpha(a), "images")).Length);
                using var file = JsonDocument.Parse(File.ReadAllText(first.Paths.AlphaMetrics(a)));
                Assert.Equal(file.RootElement.GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""),
                             point.GetProperty("metrics").GetRawText().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
            }
        }
        // report.html: one self-contained page with the three grids (collection, base, tuned) as PNG data URIs, both
        // models' rare rates and the plots.
        string html = File.ReadAllText(first.Paths.ReportHtml);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(html, "<img[^>]+src=\"data:image/png;base64,").Count);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.Contains("<svg", html);
        Assert.Contains("id=\"rarity-histograms\"", html);
        Assert.Contains("id=\"alpha-curve\"", html);
        Assert.Contains("α = 0.5", html);
        Assert.Contains(first.TunedMetrics.RareRate!.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture), html);
        foreach (var name in StageNames.Take(8))
            Assert.True(File.Exists(Path.Combine(first.Paths.Root, ".stages", name + ".json")), $"no done marker for {name}");
        Assert.Empty(Directory.GetFiles(Path.Combine(first.Paths.Root, ".stages"), "*.running.json"));

        // Rerun with the same options: every stage but the report is skipped, with the first run's times and numbers.
        var second = new QuickstartPipeline(options).Run();
        Assert.Equal(StageNames.Take(8), second.Stages.Where(s => s.Skipped).Select(s => s.Name));
        for (int i = 0; i < 8; i++)
        {
            // The marker keeps the time to about 7 significant digits; rounding both to 6 places can still differ by one.
            Assert.InRange(Math.Abs(first.Stages[i].Elapsed.TotalSeconds - second.Stages[i].Elapsed.TotalSeconds), 0, 1e-6);
            Assert.Equal(first.Stages[i].Summary, second.Stages[i].Summary);
        }
        Assert.Equal(first.TunedMetrics.FidResNet18, second.TunedMetrics.FidResNet18);
        Assert.Equal(first.TunedMetrics.RareRate, second.TunedMetrics.RareRate);

        // A changed N changes the fingerprints of generation and evaluation only.
        var third = new QuickstartPipeline(options with { SampleCount = 5 }).Run();
        Assert.Equal(StageNames.Take(6), third.Stages.Where(s => s.Skipped).Select(s => s.Name));
        Assert.Equal(5, third.TunedMetrics.Count);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(third.Paths.GeneratedTuned, "images")).Length);
    }

    [Fact]
    public void ValidationRecordsTheTrajectoryAndTheFidBudgetChoosesTheTunedModel()
    {
        using var dir = new TempDir();
        var options = Tiny(Path.Combine(dir.Path, "qs"), Path.Combine(dir.Path, "cache")) with { ValidationEvery = 1, ValidationSampleCount = 8, FidBudget = 1.0, AlphaCurve = [] };
        var result = new QuickstartPipeline(options).Run();
        var points = ValidationTrajectory.Load(result.Paths.ValidationCsv);
        Assert.Equal(new[] { 0, 1, 2, 3 }, points.Select(p => p.Iteration));
        Assert.Contains(points, p => p.Pareto);
        // The chosen iteration is what the rule picks from the trajectory, and the tuned model is its snapshot.
        var chosen = Assert.Single(points, p => p.Chosen);
        Assert.Equal(ValidationTrajectory.Choose(points, 1.0), chosen.Iteration);
        Assert.Equal(File.ReadAllBytes(Path.Combine(result.Paths.Snapshots, $"iteration-{chosen.Iteration:D5}.diffnft")), File.ReadAllBytes(result.Paths.TunedModel));
        Assert.Equal(chosen.Iteration, result[QuickstartStage.FineTune].Numbers["chosen_iteration"]);
        using var report = JsonDocument.Parse(File.ReadAllText(result.Paths.ReportJson));
        var rows = report.RootElement.GetProperty("validation").EnumerateArray().ToList();
        Assert.Equal(4, rows.Count);
        Assert.Equal(chosen.FidResNet18, rows.Single(r => r.GetProperty("chosen").GetBoolean()).GetProperty("fid_resnet18").GetDouble());
        Assert.Contains("id=\"validation\"", File.ReadAllText(result.Paths.ReportHtml));
    }

    [Fact]
    public void InterruptedRunsResumeToTheModelsOfAnUninterruptedRun()
    {
        using var dir = new TempDir();
        string cache = Path.Combine(dir.Path, "cache");
        var reference = new QuickstartPipeline(Tiny(Path.Combine(dir.Path, "straight"), cache)).Run();

        var options = Tiny(Path.Combine(dir.Path, "stopped"), cache);
        // 1. Stop during base-model training, after step 2 of 4 (a checkpoint is written every step).
        using (var cts = new CancellationTokenSource())
        {
            var progress = new SynchronousProgress<QuickstartProgress>(p =>
            {
                if (p.Stage == QuickstartStage.BaseModel && p.Message.StartsWith("step 2/", StringComparison.Ordinal)) cts.Cancel();
            });
            var ex = Assert.Throws<QuickstartCanceledException>(() =>
                new QuickstartPipeline(options with { Progress = progress, CancellationToken = cts.Token }).Run());
            Assert.Equal(QuickstartStage.BaseModel, ex.Stage);
            Assert.True(ex.Resumable);
            Assert.Contains("base-model", ex.Message);
        }
        var paths = new QuickstartPaths(options.OutputDirectory);
        Assert.True(File.Exists(paths.BaseCheckpoint));
        Assert.False(File.Exists(paths.BaseModel));
        Assert.True(File.Exists(Path.Combine(paths.Root, ".stages", "base-model.running.json")));

        // 2. Rerun, stop during fine-tuning after its first of 3 iterations.
        using (var cts = new CancellationTokenSource())
        {
            var started = new List<(QuickstartStage, string)>();
            var progress = new SynchronousProgress<QuickstartProgress>(p =>
            {
                if (p.Kind == QuickstartProgressKind.Started) started.Add((p.Stage, p.Message));
                if (p.Stage == QuickstartStage.FineTune && p.Message.StartsWith("iteration 1/", StringComparison.Ordinal)) cts.Cancel();
            });
            var ex = Assert.Throws<QuickstartCanceledException>(() =>
                new QuickstartPipeline(options with { Progress = progress, CancellationToken = cts.Token }).Run());
            Assert.Equal(QuickstartStage.FineTune, ex.Stage);
            Assert.Contains((QuickstartStage.BaseModel, "resuming from its checkpoint"), started);
            Assert.DoesNotContain(started, s => s.Item1 == QuickstartStage.Collection);    // finished in run 1
        }
        Assert.True(File.Exists(paths.TunedCheckpoint));

        // 3. Rerun to the end: the models equal the uninterrupted run's, bit for bit, and so do the metrics.
        var resumed = new QuickstartPipeline(options).Run();
        Assert.Equal(new[] { "collection", "rarity", "judge", "base-model", "reward-model" }, resumed.Stages.Where(s => s.Skipped).Select(s => s.Name));
        Assert.Equal(3, resumed[QuickstartStage.FineTune].Numbers["iterations"]);
        Assert.Equal(File.ReadAllBytes(reference.Paths.BaseModel), File.ReadAllBytes(paths.BaseModel));
        Assert.Equal(File.ReadAllBytes(reference.Paths.TunedModel), File.ReadAllBytes(paths.TunedModel));
        Assert.Equal(File.ReadAllText(reference.Paths.FineTuneLog).Split('\n').Select(Columns), File.ReadAllText(paths.FineTuneLog).Split('\n').Select(Columns));
        Assert.Equal(reference.TunedMetrics.FidResNet18, resumed.TunedMetrics.FidResNet18);
    }

    [Fact]
    public void AFineTuningStoppedByItsTimeGuardIsFlaggedInTheSummaryAndTheReport()
    {
        using var dir = new TempDir();
        var options = Tiny(Path.Combine(dir.Path, "guarded"), Path.Combine(dir.Path, "cache")) with { FineTuneTime = TimeSpan.FromTicks(1) };
        var result = new QuickstartPipeline(options).Run();
        var fineTune = result[QuickstartStage.FineTune];
        Assert.Equal(1, fineTune.Numbers["time_capped"]);
        Assert.Contains("TIME GUARD after 0 of 3 iterations", fineTune.Summary);
        using var report = JsonDocument.Parse(File.ReadAllText(result.Paths.ReportJson));
        var warning = Assert.Single(report.RootElement.GetProperty("warnings").EnumerateArray()).GetString();
        Assert.Contains("time guard after 0 of 3 iterations", warning);
        Assert.Contains("time guard after 0 of 3 iterations", File.ReadAllText(result.Paths.ReportHtml));
    }

    // The log's elapsed_s column is wall time, the only column allowed to differ.
    private static string Columns(string line) => string.Join(",", line.Split(',').Where((_, i) => i != 1));
}
