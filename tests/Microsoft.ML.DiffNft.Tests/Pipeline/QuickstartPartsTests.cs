using DiffNft.Cli;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>The quickstart's pieces that need no model: options, fingerprints, metrics files, the command line.</summary>
public sealed class QuickstartPartsTests
{
    [Fact]
    public void FingerprintsIgnoreProgressCancellationAndPathsButNotHyperParameters()
    {
        using var cts = new CancellationTokenSource();
        var plain = new FineTuneOptions();
        var decorated = plain with
        {
            Progress = new SynchronousProgress<FineTuneProgress>(_ => { }),
            CancellationToken = cts.Token,
            CheckpointPath = "/tmp/x.ckpt",
            LogPath = "/tmp/x.csv",
        };
        Assert.Equal(StageFingerprint.Describe(plain), StageFingerprint.Describe(decorated));
        Assert.NotEqual(StageFingerprint.Describe(plain), StageFingerprint.Describe(plain with { LearningRate = 1e-4 }));
        Assert.NotEqual(StageFingerprint.Describe(plain), StageFingerprint.Describe(plain with { KlWeight = 0.02 }));
        Assert.Contains("\"Mode\":\"Ppo\"", StageFingerprint.Describe(plain));

        string a = StageFingerprint.Of(QuickstartStage.FineTune, "s", "in1");
        Assert.Equal(a, StageFingerprint.Of(QuickstartStage.FineTune, "s", "in1"));
        Assert.NotEqual(a, StageFingerprint.Of(QuickstartStage.FineTune, "s", "in2"));       // an input changed upstream
        Assert.NotEqual(a, StageFingerprint.Of(QuickstartStage.Generate, "s", "in1"));
        Assert.Equal(64, a.Length);
    }

    [Fact]
    public void OptionsRejectWhatCannotWorkWithAClearMessage()
    {
        var ok = new QuickstartOptions { OutputDirectory = "x" };
        ok.Validate();
        Assert.Equal(500, ok.SampleCount);
        Assert.Equal(1.0, ok.RarityWeight);
        Assert.Equal(0.0, ok.FidelityWeight);
        Assert.Equal(new FineTuneOptions().KlWeight, ok.FineTune.KlWeight);
        Assert.Equal(new FineTuneOptions().LearningRate, ok.FineTune.LearningRate);

        var other = new NounsCollectionOptions { Count = 100, Seed = 5 };
        var ex = Assert.Throws<ArgumentException>(() => (ok with { Collection = other }).Validate());
        Assert.Contains("FromScratch", ex.Message);
        (ok with { Collection = other, FromScratch = true, SampleCount = 50 }).Validate();

        Assert.Throws<ArgumentOutOfRangeException>(() => (ok with { SampleCount = 1 }).Validate());
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => (ok with { SampleCount = 4001 }).Validate());
        Assert.Contains("4000", tooMany.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => (ok with { FineTuneTime = TimeSpan.Zero }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { FineTunePrompts = new[] { " " } }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (ok with { FineTune = new FineTuneOptions { LearningRate = 0 } }).Validate());
        Assert.Throws<ArgumentException>(() => (ok with { OutputDirectory = " " }).Validate());
    }

    [Fact]
    public void MetricsFilesReadBackExactlyAndDamagedOnesNameTheFile()
    {
        using var dir = new TempDir();
        var metrics = new NftGenerationMetrics
        {
            Count = 500, FidResNet18 = 12.345678901234, KidResNet18 = 0.0123, KidStandardDeviation = 0.001, RarityScore = 1.0443,
            RareRate = 0.116, DecodableRate = 0.938, Novelty = null, DuplicateRate = 0.062, Diversity = 21.196,
        };
        string path = Path.Combine(dir.Path, "m.json");
        File.WriteAllText(path, metrics.ToJson());
        var back = NftGenerationMetricsJson.Load(path);
        Assert.Equal(metrics.ToJson(), back.ToJson());
        Assert.Null(back.Novelty);

        File.WriteAllText(path, "{\"n\": 5, \"fid_resnet18\": \"x\"}");
        var ex = Assert.Throws<InvalidDataException>(() => NftGenerationMetricsJson.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("fid_resnet18", ex.Message);
        File.WriteAllText(path, "{\"n\": ");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => NftGenerationMetricsJson.Load(path)).Message);
    }

    [Fact]
    public void TheCommandListsItsOptionsAndRejectsBadValuesInOneLine()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, CliApp.Run(new[] { "quickstart", "--help" }, stdout, stderr));
        foreach (var option in new[] { "--out", "--from-scratch", "--minutes-finetune", "--n", "--seed", "--threads", "--plain" })
            Assert.Contains(option, stdout.ToString());

        using var dir = new TempDir();
        foreach (var (args, word) in new[]
        {
            (new[] { "quickstart", "--out", dir.Path, "--n", "1" }, "SampleCount"),
            (new[] { "quickstart", "--out", dir.Path, "--n", "5000" }, "4000"),
            (new[] { "quickstart", "--out", dir.Path, "--minutes-finetune", "0" }, "--minutes-finetune"),
        })
        {
            var err = new StringWriter();
            Assert.Equal(1, CliApp.Run(args, new StringWriter(), err));
            var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Contains(word, lines[0]);
        }
        Assert.False(Directory.Exists(Path.Combine(dir.Path, ".stages")));   // nothing ran
    }
}
