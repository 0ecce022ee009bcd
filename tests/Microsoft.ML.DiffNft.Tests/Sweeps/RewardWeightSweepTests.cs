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
        public NftCollection Reference { get; } = NounsCollectionGenerator.Generate(new NounsCollectionOptions { Count = 24, Seed = 5 }).Collection;

        public ResNet18FeatureExtractor ResNet { get; } = new();

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
        Generation = new GenerationOptions { Steps = 4, GuidanceScale = 1.0 },
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
        Assert.StartsWith("id,rarity_weight,fidelity_weight,kl_weight,rank,pareto,n,fid_resnet18", lines[0]);
        var points = first.Trials.Select(t => (t.Metrics.FidResNet18, t.Metrics.RareRate)).ToList();
        var board = SweepRanking.Leaderboard(points);
        Assert.Equal(board.Select(i => first.Trials[i]), first.Leaderboard);
        Assert.Equal(SweepRanking.ParetoFront(points).Select(i => first.Trials[i]), first.ParetoFront);
        for (int i = 0; i < 2; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(first.Trials[i].Trial.Id, cells[0]);
            Assert.Equal(first.RankOf(first.Trials[i]).ToString(), cells[4]);
            Assert.Equal(first.Trials[i].Metrics.FidResNet18, double.Parse(cells[7], System.Globalization.CultureInfo.InvariantCulture));
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
            "--count", "6", "--n", "6", "--cache", Path.Combine(dir.Path, "cache"), "--out", outDir], stdout, stderr);
        output.WriteLine(stdout.ToString() + stderr);
        Assert.True(code == 0, stderr.ToString());
        var table = stdout.ToString().Split('\n');
        Assert.StartsWith("rank  trial", table[0]);
        Assert.StartsWith("   1  r0.5-f0.5-kl0.01", table[1]);
        Assert.Contains("base", table[2]);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, "trials.csv")).Length);
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));

        stderr = new StringWriter();
        code = CliApp.Run(["sweep", "--base", basePath, "--reward", "builtin:fidelity", "--reference", reference, "--rarity-weights", "0,x", "--out", outDir], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("--rarity-weights: 'x' is not a number", stderr.ToString());
    }

    [Fact]
    public void InvalidGridsAreRejectedByName()
    {
        Assert.Contains("repeat", Assert.Throws<ArgumentException>(() => new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", RarityWeights = [0, 0] })).Message);
        Assert.Contains("GenerationCount", Assert.Throws<ArgumentException>(() => new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", GenerationCount = 10, EvaluationSize = 20 })).Message);
        var sweep = new RewardWeightSweep(new RewardWeightSweepOptions { OutputDirectory = "x", RarityWeights = [0, 1], KlWeights = [0, 0.1], FidelityWeight = 0.5 });
        Assert.Equal(["r0-f0.5-kl0", "r0-f0.5-kl0.1", "r1-f0.5-kl0", "r1-f0.5-kl0.1"], sweep.Trials.Select(t => t.Id).ToArray());
    }
}
