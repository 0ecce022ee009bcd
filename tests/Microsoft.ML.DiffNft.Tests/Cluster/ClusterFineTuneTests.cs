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

    /// <summary>A fine-tuning log without its wall-time column.</summary>
    private static string[] LogWithoutTime(string log) =>
        File.ReadAllLines(log).Select(l => string.Join(",", l.Split(',').Where((_, i) => i != 1))).ToArray();

    private static void AssertSameRun(string expected, string actual)
    {
        Assert.Equal(LogWithoutTime(expected + ".log.csv"), LogWithoutTime(actual + ".log.csv"));
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

    /// <summary>
    /// Runs 5 iterations on 3 silos and kills the silo <paramref name="choose"/> picks (given the learner's) in the middle
    /// of iteration 3: as soon as its sampler logs that it started a chunk of iteration 3. Checks the run ends with the
    /// single-process weights and log; returns the client's output, the learner's silo and the killed one.
    /// </summary>
    private (string Stderr, string Learner, string Victim) KillDuringRun(Func<string, TestCluster, string> choose)
    {
        using var dir = new TempDir();
        string single = SingleProcess(dir.Path, 5);
        using var cluster = TestCluster.Start(3, dir.Path);
        string path = Path.Combine(dir.Path, "cluster", "model.diffnft");
        using var run = CliProcess.Start(dir.Path, FineTune(path, 5, "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        Assert.True(WaitFor(run, r => LearnerLine().IsMatch(r.Stderr), TimeSpan.FromMinutes(5)), run.Stderr);
        string learner = LearnerLine().Match(run.Stderr).Groups[1].Value;
        string victim = choose(learner, cluster);
        var silo = cluster.Silo(victim);
        // "sampling …, iteration 3, trajectories a…b" without its "sampled …" line yet: the chunk is in progress.
        bool Busy() => silo.Stdout.Split('\n').Where(l => l.Contains(", iteration 3, ")).ToList() is { Count: 1 } lines && lines[0].Contains("sampling job");
        Assert.True(WaitFor(run, _ => Busy(), TimeSpan.FromMinutes(5)), $"silo {victim} never sampled a chunk of iteration 3\n{run.Stderr}\n{silo.Stdout}");
        silo.Kill();
        output.WriteLine($"killed silo {victim} (learner on {learner})");
        int code = run.WaitForExit(TimeSpan.FromMinutes(10));
        output.WriteLine(run.Stderr);
        Assert.True(code == 0, run.Stderr + cluster.Logs);
        AssertSameRun(single, path);
        return (run.Stderr, learner, victim);
    }

    [ClusterFact]
    public void AKilledSamplerSilosChunksRunOnTheOthersAndEveryTrajectoryCountsOnce()
    {
        var (stderr, _, victim) = KillDuringRun((learner, cluster) => cluster.Running.First(s => s != learner));
        Assert.Contains($"failed on silo {victim}", stderr);
        Assert.Equal("30", SummaryLine().Match(stderr).Groups[1].Value);
    }

    [ClusterFact]
    public void AKilledLearnersRunResumesOnASurvivorAndEndsWithTheUninterruptedWeights()
    {
        var (stderr, learner, _) = KillDuringRun((learner, _) => learner);
        var resumed = LearnerLine().Matches(stderr).Select(m => m.Groups[1].Value).ToList();
        Assert.True(resumed.Count >= 2 && resumed[^1] != learner, $"the learner should have resumed on a survivor:\n{stderr}");
        Assert.Contains("from its last checkpoint", stderr);
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
        // Both silos sampled (which takes the third chunk of an iteration depends on which finishes first).
        Assert.Matches(@"from s1 \d+, s2 \d+;", clusterErr);
        Assert.True(File.ReadAllBytes(Path.Combine(dir.Path, "single", "lora.safetensors")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, "cluster", "lora.safetensors"))),
            "the cluster's LoRA adapter differs from the single-process run's");
        Assert.Equal(LogWithoutTime(Path.Combine(dir.Path, "single", "log.csv")), LogWithoutTime(Path.Combine(dir.Path, "cluster", "log.csv")));
    }

    [ClusterFact]
    public void AStalenessBoundOfOneRunsOnTheClusterWithOffPolicyTrajectories()
    {
        using var dir = new TempDir();
        using var cluster = TestCluster.StartLocalhost(2, dir.Path);
        string path = Path.Combine(dir.Path, "stale", "model.diffnft");
        var (code, _, stderr) = CliProcess.Run(dir.Path, FineTune(path, 3, "--staleness", "1", "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        output.WriteLine(stderr);
        Assert.True(code == 0, stderr + cluster.Logs);
        Assert.Equal("18", SummaryLine().Match(stderr).Groups[1].Value);
        // approx_kl (column 8 of the log) measures how far the sampling weights were from the trained ones: 0 for the first
        // iteration (sampled with the initial weights, trained from them), positive once iterations are sampled a version behind.
        var approxKl = File.ReadAllLines(path + ".log.csv").Skip(1).Select(l => double.Parse(l.Split(',')[8], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, approxKl.Count);
        Assert.True(approxKl.Skip(1).Any(v => v > 1e-12), string.Join(", ", approxKl));
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
