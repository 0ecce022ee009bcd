using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Trajectories of the stochastic DDIM policy, stored for PPO: for every step j the state x_t (<c>States[j]</c>), the
/// sampled x_{t−1} (<c>States[j+1]</c>), the timesteps, σ_t and the element-averaged log π(x_{t−1} | x_t) under the
/// weights that sampled it — all PPO needs: the update re-scores the stored transitions under the current weights.
/// </summary>
internal sealed class Rollout : IDisposable
{
    public Rollout(string[] prompts, Tensor promptIds, int[] timesteps, int[] previousTimesteps, double[] sigmas, Tensor states, Tensor logProbs)
    {
        Prompts = prompts;
        PromptIds = promptIds;
        Timesteps = timesteps;
        PreviousTimesteps = previousTimesteps;
        Sigmas = sigmas;
        States = states;
        LogProbs = logProbs;
    }

    /// <summary>The prompt of each trajectory.</summary>
    public string[] Prompts { get; }

    /// <summary>Token ids [B, L] of the prompts.</summary>
    public Tensor PromptIds { get; }

    /// <summary>t of each step, descending.</summary>
    public int[] Timesteps { get; }

    /// <summary>The step's target timestep t − stride (negative at the last step: ᾱ is then clamped to ᾱ_0).</summary>
    public int[] PreviousTimesteps { get; }

    /// <summary>σ_t of each step.</summary>
    public double[] Sigmas { get; }

    /// <summary>[S+1, B, C, H, W]: x_T (pure noise) … x_0 (the final images, not clamped).</summary>
    public Tensor States { get; }

    /// <summary>[S, B]: element-averaged log-probability of each sampled step under the sampling weights.</summary>
    public Tensor LogProbs { get; }

    /// <summary>Number of trajectories B.</summary>
    public int Count => Prompts.Length;

    /// <summary>Number of steps S.</summary>
    public int Steps => Timesteps.Length;

    /// <summary>The final samples as images in [−1, 1] (the range rewards expect): clamped pixels, or decoded latents.</summary>
    public Tensor FinalImages(DenoisingModel model) => model.ToImages(States[Steps]);

    /// <summary>
    /// One rollout of <paramref name="parts"/>' trajectories in order (the parts are left to their owners). Every part must
    /// have the same steps and σ: they are chunks of one iteration.
    /// </summary>
    public static Rollout Concat(IReadOnlyList<Rollout> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("No rollouts to concatenate.", nameof(parts));
        var first = parts[0];
        foreach (var p in parts)
            if (!p.Timesteps.SequenceEqual(first.Timesteps) || !p.PreviousTimesteps.SequenceEqual(first.PreviousTimesteps) || !p.Sigmas.SequenceEqual(first.Sigmas))
                throw new ArgumentException("Rollouts of different sampling schedules cannot be concatenated.", nameof(parts));
        // Owned by the new rollout alone, like the tensors of a sampled one.
        return new Rollout(parts.SelectMany(p => p.Prompts).ToArray(),
            cat(parts.Select(p => p.PromptIds).ToArray(), 0).DetachFromDisposeScope(),
            first.Timesteps, first.PreviousTimesteps, first.Sigmas,
            cat(parts.Select(p => p.States).ToArray(), 1).DetachFromDisposeScope(),
            cat(parts.Select(p => p.LogProbs).ToArray(), 1).DetachFromDisposeScope());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        PromptIds.Dispose();
        States.Dispose();
        LogProbs.Dispose();
    }
}

/// <summary>Samples <see cref="Rollout"/>s: every image of an iteration goes through the network in one batch per step.</summary>
internal static class RolloutSampler
{
    /// <summary>
    /// Samples one trajectory per (prompt, seed) with <see cref="DdimStep.Step"/> and η &gt; 0. Each image draws its
    /// initial and step noise from its own generator (as <see cref="DenoisingModel.Generate"/> does), so a trajectory
    /// depends only on its prompt, its seed and the weights.
    /// </summary>
    public static Rollout Sample(DenoisingModel model, IReadOnlyList<string> prompts, IReadOnlyList<ulong> seeds, int steps, double eta,
        double guidance, CancellationToken cancellationToken = default)
    {
        if (prompts.Count != seeds.Count) throw new ArgumentException($"{prompts.Count} prompts but {seeds.Count} seeds.", nameof(seeds));
        if (!(eta > 0)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "Rollouts need η > 0 for log-probabilities.");
        var ts = model.Schedule.DdimTimesteps(steps);
        int stride = model.Schedule.Timesteps / steps;
        var prev = ts.Select(t => t - stride).ToArray();
        var sigmas = new double[steps];
        var gens = seeds.Select(s => SeededRandom.Create(s)).ToArray();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var ids = model.EncodePrompts(prompts);
            var states = new Tensor[steps + 1];
            var logps = new Tensor[steps];
            states[0] = model.Noise(gens);
            for (int j = 0; j < steps; j++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var stepScope = NewDisposeScope();
                var output = model.GuidedOutput(states[j], ts[j], ids, guidance);
                var noise = model.Noise(gens);
                var step = model.Step(output, states[j], ts[j], prev[j], eta, noise);
                sigmas[j] = step.Sigma;
                states[j + 1] = step.Sample.MoveToOuterDisposeScope();
                logps[j] = step.LogProb!.MoveToOuterDisposeScope();
            }
            // The rollout owns its tensors (detached from every scope) and frees them in Dispose.
            return new Rollout(prompts.ToArray(), ids.DetachFromDisposeScope(), ts, prev, sigmas,
                stack(states).DetachFromDisposeScope(), stack(logps).DetachFromDisposeScope());
        }
        finally
        {
            foreach (var g in gens) g.Dispose();
        }
    }
}
