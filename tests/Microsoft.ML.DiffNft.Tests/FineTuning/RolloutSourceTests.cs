using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

/// <summary>
/// The sampler/learner split in one process: trajectories sampled by a second copy of the model from a weight snapshot
/// and shipped as bytes must train exactly what the single-process fine-tuner trains.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public class RolloutSourceTests(ITestOutputHelper output)
{
    /// <summary>
    /// A sampler as a cluster runs it, in this process: its own copy of the base model and its own reward, the learner's
    /// weights arriving as a snapshot, every chunk leaving as bytes.
    /// </summary>
    private sealed class WireSource : IRolloutSource, IDisposable
    {
        private readonly DenoisingModel _copy;
        private readonly FineTunePolicy _policy;
        private readonly IImageReward _reward;
        private readonly FineTuneOptions _options;

        public WireSource(DiffusionModel baseModel, IImageReward reward, FineTuneOptions options)
        {
            _copy = baseModel.CloneForTraining();
            _policy = FineTunePolicy.Create(_copy, options with { Seed = 999 });
            _reward = reward;
            _options = options;
        }

        public int MaxStaleness => 0;

        public long Bytes { get; private set; }

        public ScoredRollout Collect(FineTunePolicy policy, IImageReward reward, int iteration, Func<int, RolloutPlan> plan, CancellationToken cancellationToken)
        {
            var snapshot = RolloutWire.WriteSnapshot(policy);
            RolloutWire.ReadSnapshot(snapshot, "snapshot", _policy);
            Bytes += snapshot.Length;
            var parts = new List<ScoredRollout>();
            try
            {
                foreach (var (offset, prompts, seeds) in plan(iteration).Chunks(_options.SamplingBatchSize))
                {
                    byte[] bytes;
                    using (var remote = ScoredRollout.Sample(_policy, _reward, prompts, seeds, _options, cancellationToken))
                        bytes = RolloutWire.WriteChunk(remote);
                    Bytes += bytes.Length;
                    parts.Add(RolloutWire.ReadChunk(bytes, $"chunk {iteration}/{offset}", policy.Model, prompts));
                }
                return ScoredRollout.Concat(parts);
            }
            finally
            {
                foreach (var p in parts) p.Dispose();
            }
        }

        public void Dispose()
        {
            _policy.Dispose();
            _copy.Dispose();
        }
    }

    [Fact]
    public void ChunksCoverThePlanInOrder()
    {
        var plan = new RolloutPlan(0, new[] { "a", "b", "c", "d", "e" }, new ulong[] { 1, 2, 3, 4, 5 });
        var chunks = plan.Chunks(2);
        Assert.Equal(new[] { 0, 2, 4 }, chunks.Select(c => c.Offset));
        Assert.Equal(plan.Prompts, chunks.SelectMany(c => c.Prompts));
        Assert.Equal(plan.Seeds, chunks.SelectMany(c => c.Seeds));
        Assert.Single(plan.Chunks(0));
        Assert.Single(plan.Chunks(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Chunks(-1));
    }

    [Theory]
    [InlineData(3, 4)]
    [InlineData(0, 0)]
    public void TrajectoriesSampledFromASnapshotAndShippedAsBytesTrainBitForBitWhatOneProcessTrains(int samplingBatch, int loraRank)
    {
        var options = FineTuneTestModels.Fast(3) with { SamplingBatchSize = samplingBatch, LoraRank = loraRank, LearningRate = loraRank > 0 ? 1e-2 : 1e-4 };
        var local = new List<FineTuneProgress>();
        using var straight = new DiffusionFineTuner(options with { Progress = new SynchronousProgress<FineTuneProgress>(local.Add) })
            .FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward());
        var split = new List<FineTuneProgress>();
        using var source = new WireSource(FineTuneTestModels.Base, new ChannelMeanReward(), options);
        using var shipped = (DiffusionModel)new DiffusionFineTuner(options with { Progress = new SynchronousProgress<FineTuneProgress>(split.Add) }, source)
            .Run(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward(), p => p.Export());
        output.WriteLine($"{source.Bytes:N0} bytes shipped over 3 iterations");

        Assert.Equal(local.Count, split.Count);
        for (int i = 0; i < local.Count; i++)
        {
            Assert.Equal(local[i].RewardMean, split[i].RewardMean);
            Assert.Equal(local[i].Kl, split[i].Kl);
            Assert.Equal(local[i].Loss, split[i].Loss);
            Assert.Equal(local[i].GradientNorm, split[i].GradientNorm);
        }
        Assert.NotEqual(0, local[^1].Kl);
        var b = shipped.Network.state_dict();
        foreach (var (k, v) in straight.Network.state_dict())
            Assert.True(v.eq(b[k]).all().item<bool>(), $"parameter {k} differs between the split and the single-process run");
    }

    [Fact]
    public void AChunkForOtherPromptsOrAnotherModelIsRefusedNamingItsSource()
    {
        var options = FineTuneTestModels.Fast(1);
        using var policy = FineTunePolicy.Create(FineTuneTestModels.Base, options);
        byte[] bytes;
        using (var chunk = ScoredRollout.Sample(policy, new ChannelMeanReward(), new[] { "a block", "a block" }, new ulong[] { 1, 2 }, options, default))
            bytes = RolloutWire.WriteChunk(chunk);
        var ex = Assert.Throws<InvalidDataException>(() => RolloutWire.ReadChunk(bytes, "sampler s2, iteration 4", policy.Model, new[] { "a block" }));
        Assert.Contains("sampler s2, iteration 4", ex.Message);
        Assert.Contains("states", ex.Message);
        Assert.ThrowsAny<InvalidDataException>(() => RolloutWire.ReadChunk(bytes[..^1], "truncated", policy.Model, new[] { "a block", "a block" }));
        var snapshot = RolloutWire.WriteSnapshot(policy);
        using var copy = FineTuneTestModels.Base.CloneForTraining();
        using var full = FineTunePolicy.Create(copy, options with { LoraRank = 0 });
        var bad = Assert.Throws<InvalidDataException>(() => RolloutWire.ReadSnapshot(snapshot, "snapshot v3", full));
        Assert.Contains("snapshot v3", bad.Message);
    }

    [Fact]
    public void ACheckpointOfAnotherSamplingBatchSizeIsNotResumed()
    {
        var a = FineTuneFingerprint.From(FineTuneTestModels.Fast(1), "red", "base", "prompts");
        var b = FineTuneFingerprint.From(FineTuneTestModels.Fast(1) with { SamplingBatchSize = 4 }, "red", "base", "prompts");
        Assert.Empty(FineTuneCheckpoint.Differences(a, a));
        Assert.Equal(new[] { "SamplingBatchSize" }, FineTuneCheckpoint.Differences(a, b));
        Assert.Equal(new[] { "SamplingBatchSize" }, FineTuneCheckpoint.Differences(b, a));
    }
}
