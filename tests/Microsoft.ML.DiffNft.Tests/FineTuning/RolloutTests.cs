using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Imaging;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

[Collection(TorchGlobalRngCollection.Name)]
public class RolloutTests(ITestOutputHelper output)
{
    private static readonly string[] BatchPrompts = { "a block", "a block", "a block", "a block, background blue", "a block, background blue", "a block, square red" };
    private static readonly ulong[] Seeds = { 1, 2, 3, 4, 5, 6 };

    private static FineTuneOptions Options(int rank) => FineTuneTestModels.Fast(1) with { LoraRank = rank, GuidanceScale = 2.0 };

    [Theory]
    [InlineData(4, true)]
    [InlineData(0, false)]
    public void RescoringStoredTransitionsWithUnchangedWeightsGivesRatioOne(int rank, bool perturb)
    {
        var o = Options(rank);
        using var policy = FineTunePolicy.Create(FineTuneTestModels.Base, o);
        if (perturb)
        {
            // A policy that differs from the base, so the check is not only about the reference network.
            using var noGrad = no_grad();
            using var gen = new Generator(3);
            foreach (var (_, p) in policy.TrainableParameters) p.add_(randn(p.shape, generator: gen) * 0.05);
        }
        using var rollout = RolloutSampler.Sample(policy.Model, BatchPrompts, Seeds, o.SamplingSteps, o.Eta, o.GuidanceScale);
        double worst = 0;
        for (int j = 0; j < rollout.Steps; j++)
        {
            using var scope = NewDisposeScope();
            // Exactly the PPO training path (gradients on), on the whole batch.
            var step = PpoUpdater.Rescore(policy, rollout, j, rollout.States[j], rollout.States[j + 1], rollout.PromptIds, o);
            var ratio = (step.LogProb!.detach() - rollout.LogProbs[j]).exp().to_type(float64);
            worst = Math.Max(worst, ratio.sub(1).abs().max().item<double>());
            // And on a minibatch of the trajectories, as PPO re-scores them.
            var idx = tensor(new long[] { 4, 1, 3 });
            var sub = PpoUpdater.Rescore(policy, rollout, j, rollout.States[j].index_select(0, idx), rollout.States[j + 1].index_select(0, idx),
                rollout.PromptIds.index_select(0, idx), o);
            var subRatio = (sub.LogProb!.detach() - rollout.LogProbs[j].index_select(0, idx)).exp().to_type(float64);
            worst = Math.Max(worst, subRatio.sub(1).abs().max().item<double>());
        }
        output.WriteLine($"rank {rank}: max |ratio − 1| over {rollout.Steps} steps × ({rollout.Count} trajectories + a minibatch of 3) = {worst:E2}");
        Assert.True(worst <= 1e-6, $"max |ratio − 1| = {worst:E2}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void KlToTheReferenceIsZeroBeforeTheFirstUpdate(int rank)
    {
        var o = Options(rank);
        using var policy = FineTunePolicy.Create(FineTuneTestModels.Base, o);
        using var rollout = RolloutSampler.Sample(policy.Model, BatchPrompts, Seeds, o.SamplingSteps, o.Eta, o.GuidanceScale);
        for (int j = 0; j < rollout.Steps; j++)
        {
            using var scope = NewDisposeScope();
            var step = PpoUpdater.Rescore(policy, rollout, j, rollout.States[j], rollout.States[j + 1], rollout.PromptIds, o);
            var refMean = PpoUpdater.ReferenceMean(policy, rollout.Timesteps[j], rollout.PreviousTimesteps[j], rollout.States[j], rollout.PromptIds, o);
            var kl = DdimStep.GaussianKl(step.Mean, refMean, step.Sigma);
            Assert.Equal(0f, kl.abs().max().item<float>());
            // And the stored log-probabilities are the policy's own: the rollout recorded what it sampled from.
            Assert.True(step.LogProb!.detach().eq(rollout.LogProbs[j]).all().item<bool>());
        }
    }

    [Fact]
    public void KlGrowsWhenThePolicyMovesAndMatchesTheClosedForm()
    {
        var o = Options(4);
        using var policy = FineTunePolicy.Create(FineTuneTestModels.Base, o);
        using (no_grad())
        using (var gen = new Generator(8))
            foreach (var (_, p) in policy.TrainableParameters) p.add_(randn(p.shape, generator: gen) * 0.05);
        using var rollout = RolloutSampler.Sample(policy.Model, BatchPrompts, Seeds, o.SamplingSteps, o.Eta, o.GuidanceScale);
        using var scope = NewDisposeScope();
        int j = 1;
        var step = PpoUpdater.Rescore(policy, rollout, j, rollout.States[j], rollout.States[j + 1], rollout.PromptIds, o);
        var refMean = PpoUpdater.ReferenceMean(policy, rollout.Timesteps[j], rollout.PreviousTimesteps[j], rollout.States[j], rollout.PromptIds, o);
        var kl = DdimStep.GaussianKl(step.Mean, refMean, step.Sigma).detach().to_type(float64);
        // Independent computation in double precision from the two means and σ.
        var mu = step.Mean.detach().to_type(float64).flatten(1);
        var muRef = refMean.to_type(float64).flatten(1);
        double sigma = DdimStep.Sigma(FineTuneTestModels.Base.Schedule, rollout.Timesteps[j], rollout.PreviousTimesteps[j], o.Eta);
        var expected = (mu - muRef).square().mean(new long[] { 1 }) / (2 * sigma * sigma);
        Assert.True(kl.min().item<double>() > 0);
        Assert.True(allclose(kl, expected, 1e-4, 1e-9));
    }

    [Fact]
    public void RolloutImagesAreTheGeneratorsImagesForTheSameSeeds()
    {
        var o = Options(4);
        var model = FineTuneTestModels.Base;
        using var policy = FineTunePolicy.Create(model, o);
        using var rollout = RolloutSampler.Sample(policy.Model, BatchPrompts, Seeds, o.SamplingSteps, o.Eta, o.GuidanceScale);
        var fromRollout = ImageTensors.ToImages(rollout.FinalImages(model));
        var generated = model.Generate(BatchPrompts, Seeds.Select(s => (long)s).ToList(),
            new SamplingOptions { Steps = o.SamplingSteps, GuidanceScale = o.GuidanceScale, Eta = o.Eta, BatchSize = 4 });
        for (int i = 0; i < generated.Length; i++)
            Assert.True(generated[i].PixelEquals(fromRollout[i]), $"image {i} differs between the rollout and Generate");
    }
}
