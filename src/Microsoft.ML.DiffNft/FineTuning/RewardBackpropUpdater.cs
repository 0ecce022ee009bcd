using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Reward backpropagation (DRaFT-K; AlignProp with a fixed truncation): sample each image with the stochastic DDIM
/// policy, the first S−K steps without gradients and the last K with them (x_{t−1} = μ_θ(x_t) + σ_t·z, differentiable
/// through μ_θ), score the final images with a differentiable reward and descend on −mean(reward) + β·KL, where KL is
/// the exact per-step KL to the reference averaged over the K differentiated steps. With
/// <see cref="FineTuneOptions.BackpropDetachedFinalSteps"/> = L the last L of those steps keep the sampler's update in the
/// graph but hold the network's output constant: the weights then learn only from the earlier, noisier steps, where
/// the parts of an image are decided, and cannot learn to paint late-step pixel patterns for the reward.
/// </summary>
internal static class RewardBackpropUpdater
{
    /// <summary>Runs one iteration over the batch; returns the diagnostics and each image's reward.</summary>
    public static (StatsAccumulator Stats, float[] Rewards, Dictionary<string, double> Components) Update(FineTunePolicy policy,
        AdamW adam, IImageReward reward, IReadOnlyList<string> prompts, IReadOnlyList<ulong> seeds, double beta,
        FineTuneOptions options, CancellationToken cancellationToken)
    {
        var stats = new StatsAccumulator();
        var model = policy.Model;
        var ts = model.Schedule.DdimTimesteps(options.SamplingSteps);
        int stride = model.Schedule.Timesteps / options.SamplingSteps;
        int s = ts.Length, k = options.EffectiveBackpropSteps;
        var rewards = new float[prompts.Count];
        var componentSums = new Dictionary<string, double>(StringComparer.Ordinal);
        var minibatches = Enumerable.Range(0, prompts.Count).Chunk(options.TrainBatchSize).ToArray();
        for (int g = 0; g < minibatches.Length; g += options.GradientAccumulationSteps)
        {
            var group = minibatches.Skip(g).Take(options.GradientAccumulationSteps).ToArray();
            adam.ZeroGrad();
            foreach (var mb in group)
            {
                using var scope = NewDisposeScope();
                var gens = mb.Select(i => SeededRandom.Create(seeds[i])).ToArray();
                try
                {
                    var ids = model.EncodePrompts(mb.Select(i => prompts[i]).ToList());
                    var x = model.Noise(gens);
                    Tensor? klSum = null;
                    for (int j = 0; j < s; j++)
                    {
                        // Cancellation is honoured only before the first optimizer step, while the weights are untouched.
                        if (g == 0) cancellationToken.ThrowIfCancellationRequested();
                        int t = ts[j], prevT = t - stride;
                        if (j < s - k)
                        {
                            // The undifferentiated prefix: the same draws as a rollout, no graph kept.
                            using var noGrad = no_grad();
                            using var stepScope = NewDisposeScope();
                            var output = policy.PolicyOutput(x, t, ids, options.GuidanceScale);
                            var noise = model.Noise(gens);
                            var next = model.Step(output, x, t, prevT, options.Eta, noise).Sample.MoveToOuterDisposeScope();
                            x.Dispose();
                            x = next;
                        }
                        else if (j >= s - options.BackpropDetachedFinalSteps)
                        {
                            // A late step in the graph only through the sampler's update: the network's output is held
                            // constant, so the reward gradient reaches x_t (and the earlier steps) but not these calls.
                            Tensor output;
                            using (no_grad())
                                output = policy.PolicyOutput(x, t, ids, options.GuidanceScale).detach();
                            var noise = model.Noise(gens);
                            x = model.Step(output, x, t, prevT, options.Eta, noise).Sample;
                        }
                        else
                        {
                            var output = policy.PolicyOutput(x, t, ids, options.GuidanceScale);
                            var noise = model.Noise(gens);
                            var step = model.Step(output, x, t, prevT, options.Eta, noise);
                            var refMean = PpoUpdater.ReferenceMean(policy, t, prevT, x, ids, options);
                            var kl = DdimStep.GaussianKl(step.Mean, refMean, step.Sigma);
                            klSum = klSum is null ? kl : klSum + kl;
                            x = step.Sample;
                        }
                    }
                    var images = model.ToImages(x);
                    Tensor total;
                    IReadOnlyList<(string Name, Tensor Scores)> parts;
                    using (policy.ReferenceScope())
                    using (var smoothing = SeededRandom.Create(DiffusionTrainer.StepSeed((long)seeds[mb[0]], -1)))
                        (total, parts) = RewardSmoothing.Score(reward, images, options.BackpropRewardSamples,
                            options.BackpropRewardShift, options.BackpropRewardNoise, smoothing);
                    var klMean = klSum!.mean() / (k - options.BackpropDetachedFinalSteps);
                    var rewardMean = RewardScores.TrainingSignal(reward, total, parts, options.ComponentScaling).mean();
                    var loss = beta > 0 ? -rewardMean + klMean * beta : -rewardMean;
                    (loss * (1.0 / group.Length)).backward();

                    var scores = total.detach().cpu().data<float>().ToArray();
                    for (int i = 0; i < mb.Length; i++) rewards[mb[i]] = scores[i];
                    foreach (var (name, mean) in RewardScores.ComponentMeans(parts))
                        componentSums[name] = componentSums.GetValueOrDefault(name) + mean * mb.Length;
                    // In nats per image, as PPO logs it: the differentiated steps' KL summed over the image's elements.
                    stats.AddKl(mb.Length, klMean.item<float>() * klSum.shape.Skip(1).Aggregate(1L, (acc, dim) => acc * dim) * (k - options.BackpropDetachedFinalSteps));
                    stats.AddLoss(mb.Length, loss.item<float>());
                }
                finally
                {
                    foreach (var gen in gens) gen.Dispose();
                }
            }
            stats.AddGradientNorm(adam.ClipGradNorm(options.GradientClipNorm));
            adam.StepUpdate();
        }
        adam.ZeroGrad();
        var components = componentSums.ToDictionary(kv => kv.Key, kv => kv.Value / prompts.Count, StringComparer.Ordinal);
        return (stats, rewards, components);
    }
}
