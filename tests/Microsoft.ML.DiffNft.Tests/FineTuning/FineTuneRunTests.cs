using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

[Collection(TorchGlobalRngCollection.Name)]
public class FineTuneRunTests(ITestOutputHelper output)
{
    private List<FineTuneProgress> Run(FineTuneOptions options, Microsoft.ML.DiffNft.Reward.IImageReward reward, out DiffusionModel tuned)
    {
        var reports = new List<FineTuneProgress>();
        tuned = new DiffusionFineTuner(options with { Progress = new SynchronousProgress<FineTuneProgress>(reports.Add) })
            .FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, reward);
        foreach (var p in reports) output.WriteLine(p.ToString());
        return reports;
    }

    [Fact]
    public void PpoRaisesTheRewardStartsWithZeroKlAndTheKlTermHoldsItBack()
    {
        double before = FineTuneTestModels.EvaluateRed(FineTuneTestModels.Base);
        var free = Run(FineTuneTestModels.Fast(12) with { KlWeight = 0 }, new ChannelMeanReward(), out var tuned);
        double after;
        using (tuned)
            after = FineTuneTestModels.EvaluateRed(tuned);
        var held = Run(FineTuneTestModels.Fast(12) with { KlWeight = 1 }, new ChannelMeanReward(), out var regularised);
        double afterKl;
        using (regularised)
            afterKl = FineTuneTestModels.EvaluateRed(regularised);
        output.WriteLine($"mean red on held-out seeds: base {before:F4}, PPO β=0 {after:F4} (final KL {free[^1].Kl:E2}), PPO β=1 {afterKl:F4} (final KL {held[^1].Kl:E2})");

        // One optimizer step per iteration: the first iteration's transitions are all scored before any update.
        Assert.Equal(0, free[0].Kl);
        Assert.Equal(0, free[0].ClipFraction);
        Assert.Equal(0, free[0].ApproxKl);
        Assert.Equal(12 * 8, free[^1].RewardQueries);
        Assert.True(after > before + 0.05, $"PPO should make images redder: {before:F4} → {after:F4}");
        // The exact KL penalty keeps the policy nearer the base: smaller KL and a smaller reward gain.
        Assert.True(held[^1].Kl < free[^1].Kl, $"KL with β = 1 ({held[^1].Kl:E2}) should stay below KL with β = 0 ({free[^1].Kl:E2})");
        Assert.True(afterKl < after, $"β = 1 should hold the reward gain back: {afterKl:F4} vs {after:F4}");
    }

    [Fact]
    public void BackpropRaisesTheReward()
    {
        double before = FineTuneTestModels.EvaluateRed(FineTuneTestModels.Base);
        var reports = Run(FineTuneTestModels.Fast(10, FineTuneMode.Backprop), new ChannelMeanReward(), out var tuned);
        using (tuned)
        {
            double after = FineTuneTestModels.EvaluateRed(tuned);
            output.WriteLine($"mean red on held-out seeds: base {before:F4}, backprop-tuned {after:F4}");
            Assert.True(after > before + 0.05, $"reward backpropagation should make images redder: {before:F4} → {after:F4}");
            Assert.Equal(10 * 8, reports[^1].RewardQueries);
        }
    }

    [Fact]
    public void BackpropThroughEarlyStepsWithASmoothedRewardRaisesTheRewardDeterministically()
    {
        // Gradient into the weights only from the first two of four steps, the reward averaged over shifted, noised copies.
        var options = FineTuneTestModels.Fast(10, FineTuneMode.Backprop) with
        {
            BackpropSteps = 4, BackpropDetachedFinalSteps = 2, BackpropRewardSamples = 2, BackpropRewardShift = 1, BackpropRewardNoise = 0.05,
        };
        double before = FineTuneTestModels.EvaluateRed(FineTuneTestModels.Base);
        var reports = Run(options, new ChannelMeanReward(), out var tuned);
        Run(options with { MaxIterations = 3 }, new ChannelMeanReward(), out var prefix);
        using (tuned)
        using (prefix)
        {
            double after = FineTuneTestModels.EvaluateRed(tuned);
            output.WriteLine($"mean red on held-out seeds: base {before:F4}, early-step backprop {after:F4}");
            Assert.True(after > before + 0.05, $"early-step reward backpropagation should make images redder: {before:F4} → {after:F4}");
            Assert.Equal(10 * 8, reports[^1].RewardQueries); // queries count images, not their smoothed copies
            Assert.All(reports, p => Assert.True(double.IsFinite(p.Kl) && p.Kl >= 0));
        }
        // The smoothing draws are seeded per minibatch: the first three iterations of a rerun are the same.
        var again = Run(options with { MaxIterations = 3 }, new ChannelMeanReward(), out var rerun);
        rerun.Dispose();
        Assert.Equal(reports.Take(3).Select(p => p.RewardMean), again.Select(p => p.RewardMean));
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { BackpropDetachedFinalSteps = 4 }).Validate());
    }

    [Fact]
    public void SnapshotsAreTheModelAfterTheirIterationAndTheLastIsTheTunedModel()
    {
        using var dir = new TempDir();
        string snapshots = Path.Combine(dir.Path, "snapshots");
        Run(FineTuneTestModels.Fast(3) with { SnapshotEvery = 1, SnapshotDirectory = snapshots }, new ChannelMeanReward(), out var tuned);
        using (tuned)
        {
            Assert.Equal(new[] { "iteration-00001.diffnft", "iteration-00002.diffnft", "iteration-00003.diffnft" },
                Directory.GetFiles(snapshots).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            // The last snapshot is the returned model weight for weight; the first differs from it (training went on).
            using var last = DiffusionModel.Load(Path.Combine(snapshots, "iteration-00003.diffnft"));
            using var first = DiffusionModel.Load(Path.Combine(snapshots, "iteration-00001.diffnft"));
            var tw = tuned.Network.state_dict();
            foreach (var (name, w) in last.Network.state_dict()) Assert.True(w.eq(tw[name]).all().item<bool>(), $"{name} differs from the tuned model");
            Assert.Contains(first.Network.state_dict(), kv => !kv.Value.eq(tw[kv.Key]).all().item<bool>());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => (FineTuneTestModels.Fast(3) with { SnapshotEvery = 1 }).Validate());
    }

    [Fact]
    public void BlendingScalesTheFineTuningUpdateWeightByWeight()
    {
        Run(FineTuneTestModels.Fast(2), new ChannelMeanReward(), out var tuned);
        var b = FineTuneTestModels.Base;
        using (tuned)
        using (var none = DiffusionModel.Blend(b, tuned, 0))
        using (var half = DiffusionModel.Blend(b, tuned, 0.5))
        using (var full = DiffusionModel.Blend(b, tuned, 1))
        {
            var bw = b.Network.state_dict();
            var tw = tuned.Network.state_dict();
            int moved = 0;
            foreach (var (name, w) in none.Network.state_dict())
            {
                Assert.True(w.eq(bw[name]).all().item<bool>(), $"{name}: α = 0 must be the base model exactly");
                Assert.True(half.Network.state_dict()[name].allclose((bw[name] + tw[name]) / 2, rtol: 1e-5, atol: 1e-7), $"{name}: α = 0.5 is the midpoint");
                Assert.True(full.Network.state_dict()[name].allclose(tw[name], rtol: 1e-5, atol: 1e-7), $"{name}: α = 1 is the tuned model");
                if (!tw[name].eq(bw[name]).all().item<bool>()) moved++;
            }
            Assert.True(moved > 0, "fine-tuning changed no weight");
            // A model of another architecture is refused.
            var other = new DiffusionModel(b.Options with { UNet = b.Options.UNet with { BaseChannels = b.Options.UNet.BaseChannels * 2 } }, b.Tokenizer, b.Device);
            using (other)
                Assert.Throws<ArgumentException>(() => DiffusionModel.Blend(b, other, 0.5));
        }
    }

    [Fact]
    public void AZeroWeightRewardIsNeverComputedAndTheRunCompletes()
    {
        var red = new ChannelMeanReward();
        var reward = new WeightedReward((new MustNotBeCalledReward("rarity"), 0.0), (red, 1.0));
        var reports = Run(FineTuneTestModels.Fast(2), reward, out var tuned);
        tuned.Dispose();
        Assert.Equal(2, reports.Count);
        Assert.Equal(new[] { "red" }, reports[0].RewardComponents.Keys);
        Assert.Equal(2, red.Calls);

        var nothing = new WeightedReward((new MustNotBeCalledReward("rarity"), 0.0), (new MustNotBeCalledReward("fidelity"), 0.0));
        var idle = Run(FineTuneTestModels.Fast(2, FineTuneMode.Backprop), nothing, out var untouched);
        untouched.Dispose();
        Assert.All(idle, p => Assert.Equal(0, p.RewardMean));
    }

    [Theory]
    [InlineData(FineTuneMode.Ppo, 4)]
    [InlineData(FineTuneMode.Ppo, 0)]
    [InlineData(FineTuneMode.Backprop, 4)]
    public void ResumingFromACheckpointReproducesTheUninterruptedRunExactly(FineTuneMode mode, int rank)
    {
        using var dir = new TempDir();
        var options = FineTuneTestModels.Fast(4, mode) with
        {
            LoraRank = rank, LearningRate = rank == 0 ? 1e-3 : 3e-3, Advantages = AdvantageNormalization.RunningPerPrompt,
            StatBufferSize = 8, StatMinCount = 6, KlTarget = 1e-6, TrainBatchSize = 3, GradientAccumulationSteps = 2, TimestepFraction = 0.5,
            // The crowding penalty's memory and bandwidth and σ₀ of the advantage floor travel in the checkpoint too (PPO only).
            CrowdingWeight = 1, CrowdingWindow = 1, AdvantageStdFloor = 1,
        };
        var straightReports = Run(options, new ChannelMeanReward(), out var straight);
        string ckpt = Path.Combine(dir.Path, "run.ckpt");
        Run(options with { MaxIterations = 2, CheckpointPath = ckpt }, new ChannelMeanReward(), out var half);
        half.Dispose();
        var resumedReports = Run(options with { CheckpointPath = ckpt, LogPath = Path.Combine(dir.Path, "log.csv") }, new ChannelMeanReward(), out var resumed);
        using (straight)
        using (resumed)
        {
            Assert.Equal(2, resumedReports.Count);
            var a = straight.Network.state_dict();
            var b = resumed.Network.state_dict();
            foreach (var (k, v) in a)
                Assert.True(v.eq(b[k]).all().item<bool>(), $"parameter {k} differs after resume");
            for (int i = 0; i < 2; i++)
            {
                var x = straightReports[i + 2];
                var y = resumedReports[i];
                Assert.Equal((x.Iteration, x.RewardMean, x.Kl, x.KlWeight, x.Loss, x.RewardQueries), (y.Iteration, y.RewardMean, y.Kl, y.KlWeight, y.Loss, y.RewardQueries));
            }
            var log = File.ReadAllLines(Path.Combine(dir.Path, "log.csv"));
            Assert.Equal(5, log.Length);
            // PPO logs the mean crowding of its samples (the crowding penalty); reward backpropagation has none.
            Assert.StartsWith(mode == FineTuneMode.Ppo ? "iteration,elapsed_s,reward_mean,reward_std,reward_red,reward_crowding,kl,beta"
                : "iteration,elapsed_s,reward_mean,reward_std,reward_red,kl,beta", log[0]);
            Assert.Equal(Enumerable.Range(1, 4).Select(i => i.ToString()), log.Skip(1).Select(l => l.Split(',')[0]));
        }
    }

    [Fact]
    public void ADivergingRunStopsWithAnErrorAndSavesNothing()
    {
        // A learning rate of 1 on every weight (no LoRA) overflows within a few iterations; the checkpoint written before
        // the divergence is the last thing saved, and no model is returned.
        using var dir = new TempDir();
        string ckpt = Path.Combine(dir.Path, "run.ckpt");
        var reports = new List<FineTuneProgress>();
        var options = FineTuneTestModels.Fast(20) with
        {
            LoraRank = 0, LearningRate = 1, GradientClipNorm = 0, CheckpointPath = ckpt, CheckpointEvery = 1,
            Progress = new SynchronousProgress<FineTuneProgress>(reports.Add),
        };
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new DiffusionFineTuner(options).FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward()).Dispose());
        Assert.Matches(@"(Fine-tuning diverged at step \d+|returned a non-finite)", ex.Message);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && double.IsFinite(r.Kl), $"iteration {r.Iteration} was reported with loss {r.Loss}"));
        if (File.Exists(ckpt))
        {
            using var manifest = System.Text.Json.JsonDocument.Parse(Torch.ModelArchive.Read(ckpt)["checkpoint.json"]);
            Assert.Equal(reports.Count, manifest.RootElement.GetProperty("State").GetProperty("Iteration").GetInt32());
        }
    }

    [Fact]
    public void TheDivergenceCheckNamesTheStepTheValueAndTheLearningRate()
    {
        Torch.Divergence.ThrowIfNotFinite(1.5, "Training", 3, 0.1, "or check the images");
        var ex = Assert.Throws<InvalidOperationException>(() => Torch.Divergence.ThrowIfNotFinite(double.NaN, "Training", 3, 0.1, "or check the images"));
        Assert.Equal("Training diverged at step 3: the loss is NaN. Nothing was saved; lower LearningRate (now 0.1) or check the images.", ex.Message);
    }

    [Fact]
    public void AResumedRunsTimeGuardCountsTheTimeItsCheckpointRecordsAndNothingElse()
    {
        using var dir = new TempDir();
        string ckpt = Path.Combine(dir.Path, "run.ckpt");
        var options = FineTuneTestModels.Fast(3) with { CheckpointPath = ckpt };
        var first = Run(options with { MaxIterations = 2 }, new ChannelMeanReward(), out var half);
        half.Dispose();
        using var manifest = System.Text.Json.JsonDocument.Parse(Torch.ModelArchive.Read(ckpt)["checkpoint.json"]);
        double recorded = manifest.RootElement.GetProperty("State").GetProperty("Seconds").GetDouble();
        Assert.InRange(recorded, first[^1].Elapsed.TotalSeconds, first[^1].Elapsed.TotalSeconds + 60);

        // A guard shorter than the recorded time stops the resumed run before its third iteration: the earlier time counts.
        var stopped = Run(options with { MaxTime = TimeSpan.FromSeconds(recorded * 0.9) }, new ChannelMeanReward(), out var unchanged);
        unchanged.Dispose();
        Assert.Empty(stopped);

        // A guard longer than the recorded time lets it run, and its clock continues from the checkpoint's time.
        var resumed = Run(options with { MaxTime = TimeSpan.FromSeconds(recorded + 600) }, new ChannelMeanReward(), out var done);
        done.Dispose();
        Assert.Equal(new[] { 3 }, resumed.Select(p => p.Iteration));
        Assert.True(resumed[0].Elapsed.TotalSeconds > recorded, $"elapsed {resumed[0].Elapsed.TotalSeconds} s should continue from the checkpoint's {recorded} s");
    }

    [Fact]
    public void CancellationWritesACheckpointThatResumesExactly()
    {
        using var dir = new TempDir();
        string ckpt = Path.Combine(dir.Path, "run.ckpt");
        var options = FineTuneTestModels.Fast(3) with { LearningRate = 3e-3 };
        Run(options, new ChannelMeanReward(), out var straight);
        using var cts = new CancellationTokenSource();
        var seen = new List<int>();
        var cancelling = options with
        {
            CheckpointPath = ckpt, CancellationToken = cts.Token,
            Progress = new SynchronousProgress<FineTuneProgress>(p => { seen.Add(p.Iteration); if (p.Iteration == 2) cts.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => { new DiffusionFineTuner(cancelling).FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward()).Dispose(); });
        Assert.Equal(new[] { 1, 2 }, seen);
        var resumedReports = Run(options with { CheckpointPath = ckpt }, new ChannelMeanReward(), out var resumed);
        using (straight)
        using (resumed)
        {
            Assert.Equal(new[] { 3 }, resumedReports.Select(p => p.Iteration));
            var b = resumed.Network.state_dict();
            foreach (var (k, v) in straight.Network.state_dict())
                Assert.True(v.eq(b[k]).all().item<bool>(), $"parameter {k} differs after a cancelled run was resumed");
        }
    }

    [Theory]
    [InlineData(FineTuneMode.Ppo)]
    [InlineData(FineTuneMode.Backprop)]
    public void LiveTensorCountStaysFlatAcrossIterations(FineTuneMode mode)
    {
        var counts = new List<long>();
        var options = FineTuneTestModels.Fast(4, mode) with
        {
            Progress = new SynchronousProgress<FineTuneProgress>(_ => counts.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount)),
        };
        new DiffusionFineTuner(options).FineTune(FineTuneTestModels.Base, FineTuneTestModels.Prompts, new ChannelMeanReward()).Dispose();
        output.WriteLine($"live tensors after each iteration: {string.Join(", ", counts)}");
        Assert.Equal(counts[1], counts[3]);
    }

    [Fact]
    public void ACheckpointOfADifferentRunIsRefusedWithTheDifferingSettings()
    {
        using var dir = new TempDir();
        string ckpt = Path.Combine(dir.Path, "run.ckpt");
        var options = FineTuneTestModels.Fast(1) with { CheckpointPath = ckpt };
        Run(options, new ChannelMeanReward(), out var first);
        first.Dispose();
        var ex = Assert.Throws<InvalidOperationException>(() => Run(options with { MaxIterations = 2, LearningRate = 2e-2 }, new ChannelMeanReward(), out _));
        Assert.Contains("LearningRate", ex.Message);
        Assert.Contains(ckpt, ex.Message);
    }
}
