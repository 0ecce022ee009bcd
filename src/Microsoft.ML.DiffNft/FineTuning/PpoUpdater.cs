using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// The PPO update on one iteration's rollout: inner epochs over shuffled minibatches of trajectories, a random subset of
/// timesteps per minibatch, the clipped surrogate plus β times the exact per-step KL to the reference, gradients
/// accumulated over minibatches, clipped, then one AdamW step per accumulation group.
/// </summary>
/// <remarks>
/// Both terms of the loss are per-step, per-element averages: the surrogate of the element-averaged log-ratio and the
/// element-averaged KL. Multiplied by the image's elements D and the steps S both become per-image quantities — the
/// trajectory's log-ratio and its KL in nats — so the objective is E[A] − β·KL(trajectory) with A the normalised advantage,
/// whose optimum is the base distribution tilted by exp(A/β). The log reports the KL in that unit, nats per image.
/// </remarks>
internal static class PpoUpdater
{
    /// <summary>
    /// Re-scores stored transitions under the current policy weights (with gradients unless disabled): the DDIM step of
    /// <paramref name="xt"/> evaluated at the stored <paramref name="xPrevious"/>. With unchanged weights its log-probability
    /// equals the stored one (ratio 1).
    /// </summary>
    public static DdimStepResult Rescore(FineTunePolicy policy, Rollout rollout, int step, Tensor xt, Tensor xPrevious, Tensor ids, FineTuneOptions options)
    {
        var output = policy.PolicyOutput(xt, rollout.Timesteps[step], ids, options.GuidanceScale);
        return policy.Model.Step(output, xt, rollout.Timesteps[step], rollout.PreviousTimesteps[step], options.Eta, prevSample: xPrevious);
    }

    /// <summary>μ_ref(x_t): the reference's DDIM mean for the same transition, without gradients.</summary>
    public static Tensor ReferenceMean(FineTunePolicy policy, int t, int prevT, Tensor xt, Tensor ids, FineTuneOptions options)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var output = policy.ReferenceOutput(xt, t, ids, options.GuidanceScale);
        var step = policy.BaseModel.Step(output, xt, t, prevT, options.Eta, noise: zeros_like(xt));
        return step.Mean.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs the update; returns the diagnostics (rewards are filled in by the caller). It does not observe cancellation:
    /// stopping between two optimizer steps would leave an iteration half applied, which no checkpoint could describe.
    /// </summary>
    public static StatsAccumulator Update(FineTunePolicy policy, AdamW adam, Rollout rollout, Tensor advantages, double beta,
        FineTuneOptions options, ulong iterationSeed)
    {
        var stats = new StatsAccumulator();
        int b = rollout.Count, s = rollout.Steps, ppoSteps = s - options.ExcludedFinalSteps;
        int trainSteps = Math.Max(1, (int)Math.Round(options.TimestepFraction * ppoSteps));
        // The excluded final steps keep their KL term: it is deterministic given x_t, so it regularises them without noise
        // (and with β = 0 it is still measured for the log).
        var device = policy.Model.Device;
        for (int epoch = 0; epoch < options.InnerEpochs; epoch++)
        {
            var rng = SeededShuffle.Create(DiffusionTrainer.StepSeed((long)iterationSeed, -2 - epoch));
            var order = SeededShuffle.Permutation(b, rng);
            var minibatches = order.Chunk(options.TrainBatchSize).ToArray();
            for (int g = 0; g < minibatches.Length; g += options.GradientAccumulationSteps)
            {
                var group = minibatches.Skip(g).Take(options.GradientAccumulationSteps).ToArray();
                adam.ZeroGrad();
                foreach (var mb in group)
                {
                    var steps = SeededShuffle.Permutation(ppoSteps, rng).Take(trainSteps).Order()
                        .Select(j => (Step: j, Ppo: true))
                        .Concat(Enumerable.Range(ppoSteps, s - ppoSteps).Select(j => (Step: j, Ppo: false)))
                        .ToArray();
                    using var mbScope = NewDisposeScope();
                    var idx = tensor(mb.Select(i => (long)i).ToArray(), device: device);
                    var ids = rollout.PromptIds.index_select(0, idx);
                    var adv = advantages.index_select(0, idx);
                    // Each trained transition contributes equally to the group's gradient: a mean over steps and minibatches.
                    double scale = 1.0 / (steps.Length * group.Length);
                    // The logged KL is the trajectory's, in nats per image: each step's KL summed over the image's elements,
                    // a trained step standing for the ppoSteps/trainSteps policy-gradient steps it was drawn from.
                    double elements = rollout.States[0][0].numel(), klPerImage = 0;
                    foreach (var (j, ppo) in steps)
                    {
                        using var stepScope = NewDisposeScope();
                        using var noGrad = ppo || beta > 0 ? null : no_grad();
                        var xt = rollout.States[j].index_select(0, idx);
                        var xPrev = rollout.States[j + 1].index_select(0, idx);
                        var step = Rescore(policy, rollout, j, xt, xPrev, ids, options);
                        var refMean = ReferenceMean(policy, rollout.Timesteps[j], rollout.PreviousTimesteps[j], xt, ids, options);
                        var kl = DdimStep.GaussianKl(step.Mean, refMean, step.Sigma).mean();
                        Tensor loss = beta > 0 ? kl * beta : zeros_like(kl);
                        if (ppo)
                        {
                            var old = rollout.LogProbs[j].index_select(0, idx);
                            loss = loss + PpoObjective.Loss(step.LogProb!, old, adv, options.ClipRange);
                            stats.AddPpo(mb.Length, PpoObjective.ClipFraction(step.LogProb!, old, options.ClipRange), PpoObjective.ApproxKl(step.LogProb!, old));
                        }
                        if (loss.requires_grad) (loss * scale).backward();
                        klPerImage += kl.item<float>() * elements * (ppo ? (double)ppoSteps / trainSteps : 1);
                        stats.AddLoss(mb.Length, loss.item<float>());
                    }
                    stats.AddKl(mb.Length, klPerImage);
                }
                stats.AddGradientNorm(adam.ClipGradNorm(options.GradientClipNorm));
                adam.StepUpdate();
            }
        }
        adam.ZeroGrad();
        return stats;
    }
}
