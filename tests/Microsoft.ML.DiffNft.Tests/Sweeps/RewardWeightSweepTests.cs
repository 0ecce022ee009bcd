using DiffNft.Cli;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Sweeps;
using Microsoft.ML.DiffNft.Tests.FineTuning;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Sweeps;

/// <summary>Tiny sweeps: the shared Tiny fine-tuning base, 2 trials of 2 iterations, 8 images, N = 8, against a small Nouns reference.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class RewardWeightSweepTests(ITestOutputHelper output, RewardWeightSweepTests.Fixture fixture) : IClassFixture<RewardWeightSweepTests.Fixture>
{
    /// <summary>One ResNet-18 and one reference collection for the class.</summary>
    public sealed class Fixture : IDisposable
    {
        public NftCollection Reference { get; } = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 24, Seed = 5 }).Collection;

        internal ResNet18FeatureExtractor ResNet { get; } = new();

        public void Dispose() => ResNet.Dispose();
    }

    private readonly Fixture _f = fixture;

    private RewardWeightSweepOptions Options(string dir) => new()
    {
        OutputDirectory = dir,
        RarityWeights = [0, 1],
        FineTune = FineTuneTestModels.Fast(2) with { CheckpointEvery = 1 },
        Prompts = FineTuneTestModels.Prompts,
        GenerationCount = 8,
        Generation = new SamplingOptions { Steps = 4, GuidanceScale = 1.0 },
        EvaluationSize = 8,
        GridImages = 8,
        ResNet18Extractor = _f.ResNet,
        ReferenceCacheDirectory = Path.Combine(dir, "cache"),
        Progress = new SynchronousProgress<SweepProgress>(p => output.WriteLine(p.ToString())),
    };

    [Fact]
    public void ATinySweepCompletesWritesItsTablesAndResumes()
    {
        using var dir = new NounsTestData.TempDir();
        var reward = new ChannelMeanReward();
        var first = new RewardWeightSweep(Options(dir.Path)).Run(FineTuneTestModels.Base, reward, _f.Reference);

        Assert.Equal(["r0-f1-kl0.01", "r1-f0-kl0.01"], first.Trials.Select(t => t.Trial.Id).ToArray());
        Assert.All(first.Trials, t => Assert.False(t.Skipped));
        Assert.All(first.Trials, t => Assert.Equal(2, t.Iterations));
        Assert.All(first.Trials, t => Assert.Equal(8, t.Metrics.Count));
        Assert.NotNull(first.Base);
        foreach (var t in first.Trials)
            foreach (var file in new[] { "metrics.json", "trial.json", "grid.png", "model.diffnft", "finetune.log.csv", "images/7.png" })
                Assert.True(File.Exists(Path.Combine(t.Directory, file)), $"{t.Trial.Id} lacks {file}");
        Assert.True(File.Exists(first.ReportHtmlPath) && File.Exists(first.ReportJsonPath));
        Assert.True(File.Exists(Path.Combine(dir.Path, "reference-grid.png")));

        // trials.csv: the header, one row per trial in grid order, the ranks of the leaderboard.
        var lines = File.ReadAllLines(first.TrialsCsvPath);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("id,rarity_weight,fidelity_weight,kl_weight,repeat,rank,pareto,n,fid_resnet18", lines[0]);
        var points = first.Trials.Select(t => (t.Metrics.FidResNet18, t.Metrics.RareRate)).ToList();
        var board = SweepRanking.Leaderboard(points);
        Assert.Equal(board.Select(i => first.Trials[i]), first.Leaderboard);
        Assert.Equal(SweepRanking.ParetoFront(points).Select(i => first.Trials[i]), first.ParetoFront);
        for (int i = 0; i < 2; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(first.Trials[i].Trial.Id, cells[0]);
            Assert.Equal("0", cells[4]);
            Assert.Equal(first.RankOf(first.Trials[i]).ToString(), cells[5]);
            Assert.Equal(first.Trials[i].Metrics.FidResNet18, double.Parse(cells[8], System.Globalization.CultureInfo.InvariantCulture));
        }
        // The reward weights reached the fine-tuner: w_rarity = 0 never asked the red reward for a score.
        string log0 = File.ReadAllText(Path.Combine(first.Trials[0].Directory, "finetune.log.csv"));
        Assert.DoesNotContain("reward_rarity", log0.Split('\n')[0]);
        Assert.Contains("reward_rarity", File.ReadAllText(Path.Combine(first.Trials[1].Directory, "finetune.log.csv")).Split('\n')[0]);

        // A second run finds every trial done and changes nothing.
        string csv = File.ReadAllText(first.TrialsCsvPath);
        int calls = reward.Calls;
        var second = new RewardWeightSweep(Options(dir.Path)).Run(FineTuneTestModels.Base, reward, _f.Reference);
        Assert.All(second.Trials, t => Assert.True(t.Skipped));
        Assert.Equal(calls, reward.Calls);
        Assert.Equal(first.Trials.Select(t => t.Metrics.ToJson()), second.Trials.Select(t => t.Metrics.ToJson()));
        Assert.Equal(first.Trials.Select(t => t.Metrics.RarityScores), second.Trials.Select(t => t.Metrics.RarityScores));
        Assert.Equal(csv, File.ReadAllText(second.TrialsCsvPath));

        // A trial interrupted after fine-tuning's last checkpoint resumes from it and reproduces the same model and numbers.
        var last = first.Trials[1];
        foreach (var file in new[] { "metrics.json", "trial.json", "model.diffnft", "finetune.json" }) File.Delete(Path.Combine(last.Directory, file));
        Assert.True(File.Exists(Path.Combine(last.Directory, "model.diffnft.ckpt")));
        var third = new RewardWeightSweep(Options(dir.Path)).Run(FineTuneTestModels.Base, reward, _f.Reference);
        Assert.True(third.Trials[0].Skipped);
        Assert.False(third.Trials[1].Skipped);
        Assert.Equal(2, third.Trials[1].Iterations);
        Assert.Equal(last.Metrics.ToJson(), third.Trials[1].Metrics.ToJson());
    }

    [Fact]
    public void TheCommandPrintsTheLeaderboardAndWritesTheReport()
    {
        using var dir = new NounsTestData.TempDir();
        string basePath = Path.Combine(dir.Path, "base.diffnft"), reference = Path.Combine(dir.Path, "reference"), outDir = Path.Combine(dir.Path, "sweep");
        FineTuneTestModels.Base.Save(basePath);
        NftCollectionWriter.Write(_f.Reference, reference, new NftCollectionWriteOptions());
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["sweep", "--base", basePath, "--reward", "builtin:fidelity", "--reference", reference, "--rarity-weights", "0.5",
            "--iterations", "1", "--prompt", "a block", "--prompts-per-iteration", "1", "--images-per-prompt", "2", "--steps", "2", "--guidance", "1",
            "--count", "6", "--n", "6", "--repeats", "2", "--cache", Path.Combine(dir.Path, "cache"), "--out", outDir], stdout, stderr);
        output.WriteLine(stdout.ToString() + stderr);
        Assert.True(code == 0, stderr.ToString());
        var table = stdout.ToString().Split('\n');
        Assert.StartsWith("rank  trial", table[0]);
        Assert.Matches(@"^   1  r0\.5-f0\.5-kl0\.01(-rep1)? ", table[1]);
        Assert.Matches(@"^   2  r0\.5-f0\.5-kl0\.01(-rep1)? ", table[2]);
        Assert.Contains("base", table[3]);
        // With repeats, the per-point summary follows: one row, 2 runs, mean ± standard error.
        Assert.StartsWith("w_rarity", table[5].TrimStart());
        Assert.Matches(@"^\s+0\.5\s+0\.5\s+0\.01\s+2\s+\d\.\d{4} ± \d\.\d{4}\s", table[6]);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(outDir, "trials.csv")).Length);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, "summary.csv")).Length);
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));

        stderr = new StringWriter();
        code = CliApp.Run(["sweep", "--base", basePath, "--reward", "builtin:fidelity", "--reference", reference, "--rarity-weights", "0,x", "--out", outDir], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("--rarity-weights: 'x' is not a number", stderr.ToString());
    }

    [Fact]
    public void RepeatsFineTuneWithSuccessiveSeedsAndTheSummaryAveragesThem()
    {
        using var dir = new NounsTestData.TempDir();
        var options = Options(dir.Path) with { RarityWeights = [1], Repeats = 2, EvaluateBase = false };
        var result = new RewardWeightSweep(options).Run(FineTuneTestModels.Base, new ChannelMeanReward(), _f.Reference);

        Assert.Equal(["r1-f0-kl0.01", "r1-f0-kl0.01-rep1"], result.Trials.Select(t => t.Trial.Id).ToArray());
        Assert.Equal([0, 1], result.Trials.Select(t => t.Trial.Repeat).ToArray());
        // The second repeat fine-tuned with seed + 1: a different run of the same settings.
        var logs = result.Trials.Select(t => File.ReadAllLines(Path.Combine(t.Directory, "finetune.log.csv"))[1].Split(',')[2]).ToArray();
        Assert.NotEqual(logs[0], logs[1]);
        // The first repeat is the run a sweep without repeats makes: same folder name, same seed, same numbers.
        var single = new RewardWeightSweep(options with { OutputDirectory = Path.Combine(dir.Path, "single"), Repeats = 1 })
            .Run(FineTuneTestModels.Base, new ChannelMeanReward(), _f.Reference);
        Assert.Equal(result.Trials[0].Metrics.ToJson(), single.Trials[0].Metrics.ToJson());

        var point = Assert.Single(result.Summary);
        Assert.Equal((1.0, 0.0, 0.01, 2), (point.RarityWeight, point.FidelityWeight, point.KlWeight, point.Repeats));
        var fids = result.Trials.Select(t => t.Metrics.FidResNet18).ToArray();
        Assert.Equal((fids[0] + fids[1]) / 2, point.FidResNet18.Mean!.Value, 9);
        Assert.Equal(Math.Abs(fids[0] - fids[1]) / 2, point.FidResNet18.StandardError!.Value, 9);
        var csv = File.ReadAllLines(result.SummaryCsvPath);
        Assert.Equal(SweepPointSummary.CsvHeader, csv[0]);
        var cells = csv[1].Split(',');
        Assert.Equal(["1", "0", "0.01", "2"], cells[..4]);
        Assert.Equal(point.FidResNet18.Mean!.Value, double.Parse(cells[6], System.Globalization.CultureInfo.InvariantCulture), 12);
        // The report shows the means before the trials, and report.json carries them.
        string html = File.ReadAllText(result.ReportHtmlPath);
        Assert.True(html.IndexOf("Means over repeats", StringComparison.Ordinal) is > 0 and var at && at < html.IndexOf("<table id=\"trials\"", StringComparison.Ordinal));
        using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(result.ReportJsonPath)))
        {
            var row = Assert.Single(json.RootElement.GetProperty("summary").EnumerateArray().ToList());
            Assert.Equal(2, row.GetProperty("runs").GetInt32());
            Assert.Equal(point.FidResNet18.Mean!.Value, row.GetProperty("metrics").GetProperty("fid_resnet18").GetProperty("mean").GetDouble(), 9);
            Assert.Equal(point.FidResNet18.StandardError!.Value, row.GetProperty("metrics").GetProperty("fid_resnet18").GetProperty("se").GetDouble(), 9);
        }
        Assert.Contains("\"repeat\": 1", File.ReadAllText(Path.Combine(result.Trials[1].Directory, "trial.json")));
    }

    [Fact]
    public void MeanWithErrorIsTheSampleMeanAndItsStandardError()
    {
        var e = MeanWithError.Of([0.1, null, 0.2, double.NaN, 0.3]);
        Assert.Equal(3, e.Count);
        Assert.Equal(0.2, e.Mean!.Value, 12);
        Assert.Equal(0.1 / Math.Sqrt(3), e.StandardError!.Value, 12);
        Assert.Equal(new MeanWithError(0.5, null, 1), MeanWithError.Of([0.5]));
        Assert.Equal(new MeanWithError(null, null, 0), MeanWithError.Of([null, double.PositiveInfinity]));
    }

    [Fact]
    public void InvalidGridsAreRejectedByName()
    {
        Assert.Contains("Repeats", Assert.Throws<ArgumentException>(() => new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", Repeats = 0 })).Message);
        var repeated = new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", RarityWeights = [0, 1], Repeats = 2 });
        Assert.Equal(["r0-f1-kl0.01", "r0-f1-kl0.01-rep1", "r1-f0-kl0.01", "r1-f0-kl0.01-rep1"], repeated.Trials.Select(t => t.Id).ToArray());
        Assert.Equal("r1-f0-kl0.01", repeated.Trials[3].PointId);
        Assert.Contains("repeat", Assert.Throws<ArgumentException>(() => new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", RarityWeights = [0, 0] })).Message);
        Assert.Contains("GenerationCount", Assert.Throws<ArgumentException>(() => new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", GenerationCount = 10, EvaluationSize = 20 })).Message);
        var sweep = new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", RarityWeights = [0, 1], KlWeights = [0, 0.1], FidelityWeight = 0.5 });
        Assert.Equal(["r0-f0.5-kl0", "r0-f0.5-kl0.1", "r1-f0.5-kl0", "r1-f0.5-kl0.1"], sweep.Trials.Select(t => t.Id).ToArray());
    }
}
