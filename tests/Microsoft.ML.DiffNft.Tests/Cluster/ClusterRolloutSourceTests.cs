using Microsoft.ML.DiffNft.Cluster;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Tests.FineTuning;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>
/// The learner's side of the split without Orleans: <see cref="ClusterRolloutSource"/> with in-process "silos" that hold
/// their own model copy and pull snapshots by number from the source, as the sampler grains do.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class ClusterRolloutSourceTests
{
    /// <summary>A silo's sampler: its own copy of the base model and reward, the snapshot it holds, the versions it was asked for.</summary>
    private sealed class FakeSampler : IDisposable
    {
        private readonly DenoisingModel _copy;
        private readonly FineTunePolicy _policy;
        private readonly FineTuneOptions _options;
        private (Guid Learner, int Version) _held = (Guid.Empty, -1);

        public FakeSampler(FineTuneOptions options)
        {
            _copy = FineTuneTestModels.Base.CloneForTraining();
            _policy = FineTunePolicy.Create(_copy, options);
            _options = options;
        }

        public List<(int Iteration, int Version)> Requests { get; } = new();

        public ClusterRolloutSource? Source { get; set; }

        public SampleResult Sample(SampleRequest r)
        {
            lock (this)
            {
                Requests.Add((r.Iteration, r.Version));
                if (_held != (r.Learner, r.Version))
                {
                    RolloutWire.ReadSnapshot(Source!.Snapshot(r.Version) ?? throw new InvalidOperationException($"no snapshot {r.Version}"), "snapshot", _policy);
                    _held = (r.Learner, r.Version);
                }
                using var scored = ScoredRollout.Sample(_policy, new ChannelMeanReward(), r.Prompts, r.Seeds, _options, default);
                return new SampleResult(RolloutWire.WriteChunk(scored), r.Iteration, r.Offset, r.Prompts.Length, r.Version, "fake", 0, 0);
            }
        }

        public void Dispose()
        {
            _policy.Dispose();
            _copy.Dispose();
        }
    }

    private static (List<FineTuneProgress> Log, DiffusionModel Model, List<(int Iteration, int Version)> Requests) Run(FineTuneOptions options, int staleness)
    {
        using var a = new FakeSampler(options);
        using var b = new FakeSampler(options);
        var spec = new FineTuneJobSpec("job", "base", "reward", 0, 1, 0, FineTuneTestModels.Prompts, "{}", "out", staleness);
        var source = new ClusterRolloutSource(spec, options, Guid.NewGuid(),
            _ => Task.FromResult<IReadOnlyList<string>>(new[] { "a", "b" }),
            (silo, request) => Task.Run(() => (silo == "a" ? a : b).Sample(request)), _ => { });
        a.Source = b.Source = source;
        var log = new List<FineTuneProgress>();
        var model = (DiffusionModel)new DiffusionFineTuner(options with { Progress = new SynchronousProgress<FineTuneProgress>(log.Add) }, source)
            .Run(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward(), p => p.Export());
        Assert.Equal(options.MaxIterations * 8, source.Counters.Trajectories);
        return (log, model, a.Requests.Concat(b.Requests).Distinct().OrderBy(r => r).ToList());
    }

    [Fact]
    public void SynchronousSamplersTrainWhatOneProcessTrainsAndAStalenessBoundSamplesWithTheWeightsItAllows()
    {
        var options = FineTuneTestModels.Fast(4) with { SamplingBatchSize = 3 };
        var local = new List<FineTuneProgress>();
        using var straight = new DiffusionFineTuner(options with { Progress = new SynchronousProgress<FineTuneProgress>(local.Add) })
            .FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward());

        var (syncLog, sync, syncRequests) = Run(options, staleness: 0);
        using (sync)
        {
            Assert.Equal(local.Select(p => (p.RewardMean, p.Kl, p.Loss)), syncLog.Select(p => (p.RewardMean, p.Kl, p.Loss)));
            var b = sync.Network.state_dict();
            foreach (var (k, v) in straight.Network.state_dict()) Assert.True(v.eq(b[k]).all().item<bool>(), $"{k} differs");
            // Iteration i is sampled with the weights after i updates.
            Assert.Equal(Enumerable.Range(0, 4).Select(i => (i, i)), syncRequests);
        }

        var (staleLog, stale, staleRequests) = Run(options, staleness: 1);
        using (stale)
        {
            // Iterations 0 and 1 go out together with the initial weights, then iteration i with the weights after i − 1 updates.
            Assert.Equal(new[] { (0, 0), (1, 0), (2, 1), (3, 2) }, staleRequests);
            Assert.Equal(local[0].RewardMean, staleLog[0].RewardMean);
            Assert.Equal(local[0].Loss, staleLog[0].Loss);
            // From iteration 2 on, the trajectories come from weights one update older than the policy: the PPO ratio moves.
            Assert.Equal(0, staleLog[0].ApproxKl);
            Assert.True(staleLog.Skip(1).Any(p => p.ApproxKl > 0), string.Join(", ", staleLog.Select(p => p.ApproxKl)));
            Assert.Equal(4, staleLog.Count);
        }
    }
}
