using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// <c>kill -9</c> during every long stage, then the same command again: the result is byte for byte the uninterrupted
/// run's, the resumed run does the same number of iterations, and no file under a final name is ever half-written. The
/// quickstart's stages (minutes) run with <c>DIFFNFT_LONG_TESTS=1</c>; the single commands run by default with tiny
/// settings.
/// </summary>
public sealed class KillTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-kill-").FullName;
    private readonly ITestOutputHelper _output;

    public KillTests(ITestOutputHelper output)
    {
        _output = output;
        var (code, _, error) = CliProcess.Run(_dir, "collection", "nouns", "--count", "40", "--seed", "1", "--out", "C");
        Assert.True(code == 0, error);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Checkpoint intervals change no result (the checkpoint is the run's exact state), so a run killed before a late first
    // checkpoint is compared with one that checkpointed often: the kill has a wide window before that checkpoint.
    private static string[] TrainDiffusion(string output, int checkpointEvery = 10) =>
        ["train-diffusion", "--collection", "C", "--preset", "tiny", "--steps", "40", "--batch", "4", "--checkpoint-every", $"{checkpointEvery}", "--out", output];

    private static string[] FineTune(string baseModel, string output, int checkpointEvery = 2) =>
        ["finetune", "--base", baseModel, "--reward", Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward"),
         "--prompt", "a noun", "--iterations", "4", "--images-per-prompt", "2", "--steps", "2", "--checkpoint-every", $"{checkpointEvery}",
         "--sample-every", "0", "--out", output];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TrainDiffusionKilledResumesToTheUninterruptedModel(bool afterACheckpoint)
    {
        byte[] straight = RunToEnd(TrainDiffusion("straight.diffnft"), "straight.diffnft");
        string killed = "killed.diffnft";
        // Before its first checkpoint (step 30 of 40): as soon as training has started (steps are logged only every 50).
        // After: once the checkpoint of step 10 is there.
        Func<CliProcess, bool> when = afterACheckpoint
            ? _ => File.Exists(Path.Combine(_dir, killed + ".ckpt"))
            : p => p.Stderr.Contains("training Tiny", StringComparison.Ordinal);
        KillThenRerun(TrainDiffusion(killed, afterACheckpoint ? 10 : 30), when);
        Assert.Equal(straight, File.ReadAllBytes(Path.Combine(_dir, killed)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FineTuneKilledResumesToTheUninterruptedModelWithTheSameIterations(bool afterACheckpoint)
    {
        RunToEnd(TrainDiffusion("base.diffnft"), "base.diffnft");
        byte[] straight = RunToEnd(FineTune("base.diffnft", "straight.diffnft"), "straight.diffnft");
        string killed = "killed.diffnft";
        // Before its first checkpoint (iteration 3 of 4): once iteration 1 is logged. After: once iteration 2's is there.
        Func<CliProcess, bool> when = afterACheckpoint
            ? _ => File.Exists(Path.Combine(_dir, killed + ".ckpt"))
            : _ => LogRows(killed + ".log.csv") >= 1;
        KillThenRerun(FineTune("base.diffnft", killed, afterACheckpoint ? 2 : 3), when);
        Assert.Equal(straight, File.ReadAllBytes(Path.Combine(_dir, killed)));
        Assert.Equal(4, LogRows(killed + ".log.csv"));
        Assert.Equal(LogRows("straight.diffnft.log.csv"), LogRows(killed + ".log.csv"));
    }

    [Fact]
    public void TrainRewardKilledLeavesNoModelAndTheRerunEqualsAnUninterruptedOne()
    {
        string[] Args(string output) => ["train-reward", "--collection", "C", "--preset", "tiny", "--steps", "300", "--batch", "8", "--out", output];
        RunToEnd(Args("straight/r.diffnft-reward"), "straight/r.diffnft-reward");
        using (var p = CliProcess.Start(_dir, Args("killed/r.diffnft-reward")))
        {
            // As soon as training starts (steps are logged every 50): the kill lands in the middle of the 300 steps.
            Assert.True(p.KillWhen(x => x.Stderr.Contains("training a Tiny", StringComparison.Ordinal), Limit), "train-reward ended before it could be killed");
            Assert.False(File.Exists(Path.Combine(_dir, "killed", "r.diffnft-reward")), "a killed run left a model under the final name");
        }
        RunToEnd(Args("killed/r.diffnft-reward"), "killed/r.diffnft-reward");
        // The metrics record the training's wall time; every other byte of every entry must be equal.
        var expected = EntriesWithoutTiming(Path.Combine(_dir, "straight", "r.diffnft-reward"));
        var actual = EntriesWithoutTiming(Path.Combine(_dir, "killed", "r.diffnft-reward"));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected) Assert.True(bytes.SequenceEqual(actual[name]), $"entry {name} differs");
    }

    private static Dictionary<string, byte[]> EntriesWithoutTiming(string path)
    {
        var entries = Torch.ModelArchive.Read(path);
        if (entries.TryGetValue("metrics.json", out var metrics))
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(metrics)!.AsObject();
            node.Remove("train_seconds");
            entries["metrics.json"] = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
        }
        return entries;
    }

    [Fact]
    public void QuickstartKilledInEveryLongStageResumesToTheUninterruptedRun()
    {
        if (Environment.GetEnvironmentVariable("DIFFNFT_LONG_TESTS") != "1")
        {
            _output.WriteLine("Skipped: set DIFFNFT_LONG_TESTS=1 to kill the quickstart in each long stage (about 6 minutes on 2 cores).");
            return;
        }
        string[] Args(string output) => ["quickstart", "--out", output, "--n", "24", "--iterations", "3", "--plain"];
        var (code, _, error) = CliProcess.Run(_dir, Args("straight"));
        Assert.True(code == 0, error);
        // Fine-tuning checkpoints every 4 iterations, so after iteration 1 of 3 nothing is checkpointed yet: the rerun must
        // start fine-tuning over and still do 3 iterations, charging the guard only for them.
        KillThenRerun(Args("killed"), _ => LogRows(Path.Combine("killed", "finetune.log.csv")) >= 1, rerun: false);
        // As soon as generation starts (its images are written when each model's batch is done): the kill lands mid-sampling.
        KillThenRerun(Args("killed"), p => p.Stderr.Contains("] generate: starting", StringComparison.Ordinal)
                                           || p.Stderr.Contains("] generate: restarting", StringComparison.Ordinal), rerun: false);
        KillThenRerun(Args("killed"), p => p.Stderr.Contains("] evaluate:", StringComparison.Ordinal));
        foreach (string file in new[] { "models/tuned.diffnft", "metrics/base.json", "metrics/tuned.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(_dir, "straight", file)).SequenceEqual(File.ReadAllBytes(Path.Combine(_dir, "killed", file))), $"{file} differs");
        Assert.Equal(LogRows(Path.Combine("straight", "finetune.log.csv")), LogRows(Path.Combine("killed", "finetune.log.csv")));
        Assert.Equal(3, LogRows(Path.Combine("killed", "finetune.log.csv")));
    }

    private byte[] RunToEnd(string[] args, string output)
    {
        var (code, _, error) = CliProcess.Run(_dir, args);
        Assert.True(code == 0, $"diffnft {string.Join(' ', args)} failed: {error}");
        return File.ReadAllBytes(Path.Combine(_dir, output));
    }

    private void KillThenRerun(string[] args, Func<CliProcess, bool> when, bool rerun = true)
    {
        using (var p = CliProcess.Start(_dir, args))
        {
            Assert.True(p.KillWhen(when, Limit), $"diffnft {args[0]} ended before it could be killed:\n{p.Stderr}");
            _output.WriteLine($"killed diffnft {args[0]} after: {p.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()}");
        }
        if (!rerun) return;
        var (code, _, error) = CliProcess.Run(_dir, args);
        Assert.True(code == 0, $"the rerun of diffnft {string.Join(' ', args)} failed: {error}");
    }

    private int LogRows(string log)
    {
        string path = Path.Combine(_dir, log);
        if (!File.Exists(path)) return 0;
        try
        {
            return Math.Max(0, File.ReadAllLines(path).Count(l => l.Length > 0) - 1);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
