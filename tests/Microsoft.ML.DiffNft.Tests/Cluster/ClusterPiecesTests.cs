using Microsoft.ML.DiffNft.Cluster;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Sweeps;
using Orleans.Runtime;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>The cluster's pieces that need no cluster: work dispatch with failover, the options' trip to a silo, parsing.</summary>
public sealed class ClusterPiecesTests
{
    private static Task<IReadOnlyList<string>> Silos(params string[] names) => Task.FromResult<IReadOnlyList<string>>(names);

    [Fact]
    public async Task EveryItemRunsToCompletionOnceAndOneSiloRunsOneItemAtATime()
    {
        var running = new Dictionary<string, int>();
        int most = 0;
        var outcome = await SiloDispatch.RunAll(Enumerable.Range(0, 10).ToList(), _ => Silos("a", "b", "c"), async (silo, item, _) =>
        {
            lock (running)
            {
                running[silo] = running.GetValueOrDefault(silo) + 1;
                most = Math.Max(most, running[silo]);
            }
            await Task.Delay(5 + item % 3);
            lock (running) running[silo]--;
            return item * item;
        }, null, TimeSpan.FromSeconds(5), default);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), outcome.Results);
        Assert.Equal(1, most);
        Assert.Equal(0, outcome.Retries);
        Assert.Equal(3, outcome.SiloOfItem.Distinct().Count());
    }

    [Fact]
    public async Task AnItemWhoseSiloDiesRunsElsewhereAndTheDeadSiloGetsNoMoreWork()
    {
        var retried = new List<(string Silo, int Item)>();
        var outcome = await SiloDispatch.RunAll(Enumerable.Range(0, 6).ToList(), _ => Silos("a", "dead", "c"), async (silo, item, _) =>
        {
            await Task.Yield();
            if (silo == "dead") throw new SiloUnavailableException("The target silo became unavailable.");
            return $"{item}@{silo}";
        }, (silo, item, _) => retried.Add((silo, item)), TimeSpan.FromSeconds(5), default);
        Assert.Single(retried);
        Assert.Equal("dead", retried[0].Silo);
        Assert.DoesNotContain("dead", outcome.SiloOfItem);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{i}@{outcome.SiloOfItem[i]}"), outcome.Results);
        Assert.Equal(1, outcome.Retries);
    }

    [Fact]
    public async Task ACallTheRuntimeCancelsMovesToAnotherSiloButTheCallersCancellationStops()
    {
        // The runtime cancels a call while a dead silo's part of the grain directory moves: the work is not at fault.
        var outcome = await SiloDispatch.RunAll(Enumerable.Range(0, 4).ToList(), _ => Silos("moving", "b"), async (silo, item, _) =>
        {
            await Task.Yield();
            if (silo == "moving") throw new OperationCanceledException("The operation was canceled.");
            return item;
        }, null, TimeSpan.FromSeconds(5), default);
        Assert.All(outcome.SiloOfItem, s => Assert.Equal("b", s));
        Assert.Equal(1, outcome.Retries);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.False(SiloDispatch.IsTransient(new OperationCanceledException(cts.Token), cts.Token));
        Assert.True(SiloDispatch.IsTransient(new OperationCanceledException(), CancellationToken.None));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SiloDispatch.RunAll(new[] { 1 }, _ => Silos("a"),
            (_, item, ct) => Task.FromResult(item), null, TimeSpan.FromSeconds(5), cts.Token));
    }

    [Fact]
    public async Task AnErrorOfTheWorkItselfIsNotRetriedAndANoSiloClusterGivesUpAfterItsPatience()
    {
        var bad = await Assert.ThrowsAsync<InvalidDataException>(() => SiloDispatch.RunAll(new[] { 1, 2 }, _ => Silos("a", "b"),
            (_, item, _) => item == 2 ? Task.FromException<int>(new InvalidDataException("model file 'x' is damaged")) : Task.FromResult(item),
            null, TimeSpan.FromSeconds(5), default));
        Assert.Contains("damaged", bad.Message);
        var none = await Assert.ThrowsAsync<SiloUnavailableException>(() => SiloDispatch.RunAll(new[] { 1 }, _ => Silos(),
            (_, item, _) => Task.FromResult(item), null, TimeSpan.FromSeconds(1), default));
        Assert.Contains("No silo could take the remaining 1 of 1", none.Message);
    }

    [Theory]
    [InlineData("redis=localhost:6379", "localhost:6379", null)]
    [InlineData("localhost", null, null)]
    [InlineData("localhost:30000,30001", null, "30000,30001")]
    public void TheClusterArgumentParses(string value, string? redis, string? gateways)
    {
        var o = DiffNftClusterOptions.Parse(value);
        Assert.Equal(redis, o.Redis);
        Assert.Equal(gateways, o.Gateways is null ? null : string.Join(",", o.Gateways));
    }

    [Theory]
    [InlineData("redis=", "names no Redis server")]
    [InlineData("localhost:abc", "'abc' is not a port")]
    [InlineData("localhost:70000", "'70000' is not a port")]
    [InlineData("zookeeper=x", "is not understood")]
    public void ABadClusterArgumentSaysWhatIsExpected(string value, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => DiffNftClusterOptions.Parse(value));
        Assert.Contains(expected, ex.Message);
        Assert.Contains("redis=HOST:PORT", ex.Message);
    }

    [Fact]
    public void OptionsTravelWithEverySettingButTheirProgressAndCancellation()
    {
        using var cts = new CancellationTokenSource();
        var options = new FineTuneOptions
        {
            MaxIterations = 7, MaxTime = TimeSpan.FromMinutes(3), SamplingBatchSize = 4, KlTarget = 0.5, LoraAlpha = 2, LoraTargets = LoraTargets.Linear | LoraTargets.Convolutions,
            Seed = 42, ClipRange = 0.2, Advantages = AdvantageNormalization.RunningPerPrompt,
            Progress = new SynchronousProgress<FineTuneProgress>(_ => { }), CancellationToken = cts.Token,
        };
        var back = OptionsJson.Read<FineTuneOptions>(OptionsJson.Write(options), "options");
        Assert.Equal(options with { Progress = null, CancellationToken = default }, back);

        var sweep = new RewardWeightSweepOptions { OutputDirectory = "/x", RarityWeights = [0, 0.5], FineTune = options, Prompts = ["a noun", "a toad"], FidBudget = 1.2 };
        var sweepBack = OptionsJson.Read<RewardWeightSweepOptions>(OptionsJson.Write(sweep), "sweep options");
        Assert.Equal(sweep.RarityWeights, sweepBack.RarityWeights);
        Assert.Equal(sweep.Prompts, sweepBack.Prompts);
        Assert.Equal(options with { Progress = null, CancellationToken = default }, sweepBack.FineTune);
        Assert.Equal(1.2, sweepBack.FidBudget);
        var damaged = Assert.Throws<InvalidDataException>(() => OptionsJson.Read<FineTuneOptions>("{\"MaxIterations\": \"many\"", "options of job 'j'"));
        Assert.Contains("options of job 'j'", damaged.Message);
    }

    [Fact]
    public void AJobsSpecMatchesItsCopyAndItsIdFollowsTheOutputPath()
    {
        var job = new ClusterFineTuneJob { BaseModelPath = "base.diffnft", Reward = "builtin:fidelity", Prompts = ["a noun"], OutputPath = "out/model.diffnft" };
        var spec = job.ToSpec();
        Assert.True(spec.Matches(job.ToSpec() with { Prompts = ["a noun"] }));
        Assert.False(spec.Matches(spec with { Prompts = ["a toad"] }));
        Assert.False(spec.Matches(spec with { MaxStaleness = 1 }));
        Assert.Equal(job.JobId, (job with { Prompts = ["other"] }).JobId);
        Assert.NotEqual(job.JobId, (job with { OutputPath = "elsewhere/model.diffnft" }).JobId);
        Assert.Equal(8, job.EffectiveOptions.SamplingBatchSize);
        Assert.Equal("builtin:fidelity", spec.RewardSpecification);
        Assert.Throws<ArgumentException>(() => (job with { Options = new FineTuneOptions { Mode = FineTuneMode.Backprop } }).ToSpec());
        Assert.Throws<ArgumentOutOfRangeException>(() => (job with { MaxStaleness = -1 }).ToSpec());
    }

    [Fact]
    public void TheScalingEstimateIsLinearWithoutTheUpdateAndBoundedByItWithIt()
    {
        var free = new IterationCost(Trajectories: 64, ChunkSize: 8, SampleSecondsPerChunk: 2, UpdateSecondsPerTrajectory: 0,
            ChunkBytes: 1, SnapshotBytes: 1, BytesPerSecond: 1e12, CallSeconds: 0);
        Assert.Equal(8, ClusterScaling.Throughput(free, 8, 0).Speedup, 6);
        Assert.Equal(8, ClusterScaling.Throughput(free, 64, 0).Speedup, 6);   // 8 chunks: more samplers than chunks idle
        Assert.Equal(16.0 / 6, ClusterScaling.Throughput(free, 3, 0).Speedup, 6); // 8 chunks in 3 rounds of 3
        // An update of 16 s beside 16 s of sampling: synchronous runs approach (16 + 16) / 16 = 2×, asynchronous ones never pass the update either.
        var learner = free with { UpdateSecondsPerTrajectory = 0.25 };
        Assert.Equal(32.0 / 18, ClusterScaling.Throughput(learner, 8, 0).Speedup, 6);
        Assert.Equal(1, ClusterScaling.Throughput(learner, 8, 1).Speedup, 6);
        Assert.Equal(16, ClusterScaling.IterationSeconds(learner, 8, 1), 6);
        // A slow link sets the pace: 8 chunks of 1 GB over 1 GB/s take 8 s however many samplers there are.
        var slow = free with { ChunkBytes = 1e9, SnapshotBytes = 0, BytesPerSecond = 1e9 };
        Assert.Equal(8 + 2, ClusterScaling.IterationSeconds(slow, 8, 0), 6);
    }
}
