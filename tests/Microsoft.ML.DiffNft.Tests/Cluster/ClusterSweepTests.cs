using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Tests.Reliability;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>
/// A 5-trial reward-weight sweep spread over a 3-silo cluster, one silo killed in the middle of a trial, against the
/// single-process sweep of the same command: the bundled models, 4 iterations per trial with a checkpoint after each, 8
/// images per trial, N = 8 against a 24-token Nouns reference.
/// </summary>
[Trait("Category", "Cluster")]
public sealed partial class ClusterSweepTests(ITestOutputHelper output)
{
    private static string[] Sweep(string reference, string outDir, params string[] more) =>
    [
        "sweep", "--base", Path.Combine(RepositoryPaths.Root, "models", "builtin", "base.diffnft"),
        "--reward", Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward"),
        "--reference", reference, "--rarity-weights", "0,0.25,0.5,0.75,1", "--iterations", "4", "--prompts-per-iteration", "1",
        "--images-per-prompt", "4", "--steps", "10", "--count", "8", "--n", "8", "--out", outDir, .. more,
    ];

    [GeneratedRegex(@"(r[\d.]+-f[\d.]+-kl[\d.]+) on (s\d+): ")]
    private static partial Regex TrialRunning();

    [ClusterFact]
    public void FiveTrialsOnThreeSilosWithOneKilledFinishWithTheSingleProcessResults()
    {
        using var dir = new TempDir();
        string reference = Path.Combine(dir.Path, "reference");
        var (refCode, _, refErr) = CliProcess.Run(dir.Path, "collection", "nouns", "--count", "24", "--seed", "5", "--out", reference);
        Assert.True(refCode == 0, refErr);

        string single = Path.Combine(dir.Path, "single");
        var (code, _, stderr) = CliProcess.Run(dir.Path, Sweep(reference, single));
        Assert.True(code == 0, stderr);

        using var cluster = TestCluster.Start(3, dir.Path);
        string spread = Path.Combine(dir.Path, "cluster");
        using var run = CliProcess.Start(dir.Path, Sweep(reference, spread, "--cluster", cluster.ClusterArgument, "--cluster-id", cluster.ClusterId));
        // Kill the silo of the first trial seen fine-tuning once it has a checkpoint to resume from and no metrics yet.
        Match? seen = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool Midway(Match m) => File.Exists(Path.Combine(spread, "trials", m.Groups[1].Value, "model.diffnft.ckpt"))
                                && !File.Exists(Path.Combine(spread, "trials", m.Groups[1].Value, "metrics.json"));
        while ((seen = TrialRunning().Matches(run.Stderr).FirstOrDefault(Midway)) is null)
        {
            Assert.False(run.HasExited, run.Stderr);
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), run.Stderr);
            Thread.Sleep(50);
        }
        string trial = seen.Groups[1].Value, victim = seen.Groups[2].Value;
        cluster.Silo(victim).Kill();
        output.WriteLine($"killed silo {victim} while it fine-tuned {trial}");
        int spreadCode = run.WaitForExit(TimeSpan.FromMinutes(10));
        output.WriteLine(run.Stderr);
        Assert.True(spreadCode == 0, run.Stderr + cluster.Logs);
        Assert.Contains($"silo {victim} failed", run.Stderr);

        var trials = Directory.GetDirectories(Path.Combine(single, "trials")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(5, trials.Count);
        foreach (string? t in trials)
        {
            foreach (string file in new[] { "metrics.json", "model.diffnft" })
                Assert.True(File.ReadAllBytes(Path.Combine(single, "trials", t!, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(spread, "trials", t!, file))),
                    $"trial {t}: {file} differs between the single-process and the cluster sweep");
        }
        Assert.Equal(File.ReadAllText(Path.Combine(single, "base", "metrics.json")), File.ReadAllText(Path.Combine(spread, "base", "metrics.json")));
        Assert.True(File.Exists(Path.Combine(spread, "report.html")));
    }
}
