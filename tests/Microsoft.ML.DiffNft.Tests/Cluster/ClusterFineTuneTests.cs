using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Tests.Reliability;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>
/// Fine-tuning on a 3-silo cluster of separate processes (Redis membership on loopback), against the single-process run
/// of the same command: the bundled Small model and rarity reward, 1 prompt × 6 images in chunks of 2, 20 DDIM steps,
/// a checkpoint after every iteration. Every process runs one torch thread.
/// </summary>
[Trait("Category", "Cluster")]
public sealed partial class ClusterFineTuneTests(ITestOutputHelper output)
{
    private static string[] FineTune(string outPath, int iterations, params string[] more) =>
    [
        "finetune", "--base", Path.Combine(RepositoryPaths.Root, "models", "builtin", "base.diffnft"),
        "--reward", Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward"),
        "--iterations", iterations.ToString(), "--prompts-per-iteration", "1", "--images-per-prompt", "6", "--sampling-batch", "2",
        "--steps", "20", "--sample-every", "0", "--checkpoint-every", "1", "--out", outPath, .. more,
    ];

    /// <summary>The single-process run: the reference every cluster run must reproduce bit for bit.</summary>
    private string SingleProcess(string dir, int iterations)
    {
        string path = Path.Combine(dir, "single", "model.diffnft");
        var (code, _, stderr) = CliProcess.Run(dir, FineTune(path, iterations));
        output.WriteLine(stderr);
        Assert.Equal(0, code);
        return path;
    }

    /// <summary>The log without its wall-time column.</summary>
    private static string[] LogWithoutTime(string model) =>
        File.ReadAllLines(model + ".log.csv").Select(l => string.Join(",", l.Split(',').Where((_, i) => i != 1))).ToArray();

    private static void AssertSameRun(string expected, string actual)
    {
        Assert.Equal(LogWithoutTime(expected), LogWithoutTime(actual));
        Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from {expected}");
    }

    [GeneratedRegex(@"learner (?:resumed )?on silo (s\d+) \(process (\d+)\)")]
    private static partial Regex LearnerLine();

    [GeneratedRegex(@"(\d+) trajectories in chunks from (.*?);")]
    private static partial Regex SummaryLine();

    [ClusterFact]
    public void ASynchronousRunOnThreeSilosEqualsTheSingleProcessRunBitForBit()
    {
        using var dir = new TempDir();
        string single = SingleProcess(dir.Path, 3);
        using var cluster = TestCluster.Start(3, dir.Path);
        string path = Path.Combine(dir.Path, "cluster", "model.diffnft");
        var (code, _, stderr) = CliProcess.Run(dir.Path, FineTune(path, 3, "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        output.WriteLine(stderr);
        Assert.True(code == 0, stderr + cluster.Logs);
        AssertSameRun(single, path);
        // Every silo sampled: 3 iterations × 3 chunks, one chunk per silo at a time.
        var summary = SummaryLine().Match(stderr);
        Assert.True(summary.Success, stderr);
        Assert.Equal("18", summary.Groups[1].Value);
        Assert.Equal("s1 3, s2 3, s3 3", summary.Groups[2].Value);
    }

    [ClusterFact]
    public void AKilledSamplerSilosChunksRunOnTheOthersAndEveryTrajectoryCountsOnce()
    {
        using var dir = new TempDir();
        string single = SingleProcess(dir.Path, 5);
        using var cluster = TestCluster.Start(3, dir.Path);
        string path = Path.Combine(dir.Path, "cluster", "model.diffnft");
        using var run = CliProcess.Start(dir.Path, FineTune(path, 5, "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        string learner = "";
        // Mid-iteration: sampling dominates an iteration (3 chunks of 20 steps each, the update trains half of them for 2
        // of 6 trajectories at a time), so a sampler killed half a second after iteration 2 is logged holds a chunk of iteration 3.
        Assert.True(WaitFor(run, r => r.Stderr.Contains("iter 2/5"), TimeSpan.FromMinutes(5)), run.Stderr);
        learner = LearnerLine().Match(run.Stderr).Groups[1].Value;
        string victim = cluster.Running.First(s => s != learner);
        Thread.Sleep(500);
        cluster.Silo(victim).Kill();
        output.WriteLine($"killed sampler silo {victim} (learner on {learner})");
        int code = run.WaitForExit(TimeSpan.FromMinutes(10));
        output.WriteLine(run.Stderr);
        Assert.True(code == 0, run.Stderr + cluster.Logs);
        Assert.Contains($"failed on silo {victim}", run.Stderr);
        var summary = SummaryLine().Match(run.Stderr);
        Assert.Equal("30", summary.Groups[1].Value);
        AssertSameRun(single, path);
    }

    [ClusterFact]
    public void AKilledLearnersRunResumesOnASurvivorAndEndsWithTheUninterruptedWeights()
    {
        using var dir = new TempDir();
        string single = SingleProcess(dir.Path, 5);
        using var cluster = TestCluster.Start(3, dir.Path);
        string path = Path.Combine(dir.Path, "cluster", "model.diffnft");
        using var run = CliProcess.Start(dir.Path, FineTune(path, 5, "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        Assert.True(WaitFor(run, r => r.Stderr.Contains("iter 2/5"), TimeSpan.FromMinutes(5)), run.Stderr);
        string learner = LearnerLine().Match(run.Stderr).Groups[1].Value;
        Thread.Sleep(500);
        cluster.Silo(learner).Kill();
        output.WriteLine($"killed the learner's silo {learner}");
        int code = run.WaitForExit(TimeSpan.FromMinutes(10));
        output.WriteLine(run.Stderr);
        Assert.True(code == 0, run.Stderr + cluster.Logs);
        var resumed = LearnerLine().Matches(run.Stderr).Select(m => m.Groups[1].Value).ToList();
        Assert.True(resumed.Count >= 2 && resumed[^1] != learner, $"the learner should have resumed on a survivor:\n{run.Stderr}");
        Assert.Contains("from its last checkpoint", run.Stderr);
        AssertSameRun(single, path);
    }

    [ClusterFact]
    public void StableDiffusionOnALocalhostClusterWritesTheSingleProcessAdapterBitForBit()
    {
        using var dir = new TempDir();
        string tiny = Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity.ReferenceGoldens.TinyWithStepsOffset1(dir.Path);
        string[] args =
        [
            "finetune", "--base", tiny, "--reward", Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward"), "--prompt", "a toad",
            "--iterations", "2", "--prompts-per-iteration", "1", "--images-per-prompt", "6", "--sampling-batch", "2", "--steps", "4",
            "--sample-every", "0", "--checkpoint-every", "1",
        ];
        var (code, _, stderr) = CliProcess.Run(dir.Path, [.. args, "--out", Path.Combine(dir.Path, "single")]);
        Assert.True(code == 0, stderr);
        using var cluster = TestCluster.StartLocalhost(2, dir.Path);
        var (clusterCode, _, clusterErr) = CliProcess.Run(dir.Path, [.. args, "--out", Path.Combine(dir.Path, "cluster"), "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId]);
        output.WriteLine(clusterErr);
        Assert.True(clusterCode == 0, clusterErr + cluster.Logs);
        Assert.Contains("from s1 3, s2 3", clusterErr);
        Assert.True(File.ReadAllBytes(Path.Combine(dir.Path, "single", "lora.safetensors")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, "cluster", "lora.safetensors"))),
            "the cluster's LoRA adapter differs from the single-process run's");
        string[] Log(string run) => File.ReadAllLines(Path.Combine(dir.Path, run, "log.csv")).Select(l => string.Join(",", l.Split(',').Where((_, i) => i != 1))).ToArray();
        Assert.Equal(Log("single"), Log("cluster"));
    }

    private static bool WaitFor(CliProcess process, Func<CliProcess, bool> condition, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition(process))
        {
            if (process.HasExited || clock.Elapsed > timeout) return false;
            Thread.Sleep(50);
        }
        return true;
    }
}
