using Microsoft.ML.DiffNft.Reward;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Trajectories with their rewards: the <see cref="Rollout"/>, the total reward of each final image and each computed
/// component's scores (<see cref="RewardScores.Score"/>). It owns every tensor and frees them in <see cref="Dispose"/>.
/// </summary>
internal sealed class ScoredRollout : IDisposable
{
    public ScoredRollout(Rollout rollout, Tensor total, IReadOnlyList<(string Name, Tensor Scores)> components)
    {
        Rollout = rollout;
        Total = total;
        Components = components;
    }

    public Rollout Rollout { get; }

    /// <summary>[B] total reward of each trajectory's final image.</summary>
    public Tensor Total { get; }

    /// <summary>Each computed component's [B] scores, in <see cref="RewardScores.ComponentNames"/>' order.</summary>
    public IReadOnlyList<(string Name, Tensor Scores)> Components { get; }

    /// <summary>
    /// Samples one trajectory per (prompt, seed) with the policy and scores the final images with the reference weights
    /// (the rewards judge images, not the adapter): the one way an iteration's trajectories are made, in one process or on
    /// a cluster's samplers, so both give the same numbers for the same chunk.
    /// </summary>
    public static ScoredRollout Sample(FineTunePolicy policy, IImageReward reward, IReadOnlyList<string> prompts, IReadOnlyList<ulong> seeds,
        FineTuneOptions options, CancellationToken cancellationToken)
    {
        var rollout = RolloutSampler.Sample(policy.Model, prompts, seeds, options.SamplingSteps, options.Eta, options.GuidanceScale, cancellationToken);
        try
        {
            using var noGrad = no_grad();
            using var reference = policy.ReferenceScope();
            using var scope = NewDisposeScope();
            var (total, parts) = RewardScores.Score(reward, rollout.FinalImages(policy.Model));
            return new ScoredRollout(rollout, total.detach().DetachFromDisposeScope(),
                parts.Select(p => (p.Name, ReferenceEquals(p.Scores, total) ? total.detach().clone().DetachFromDisposeScope() : p.Scores.detach().DetachFromDisposeScope())).ToList());
        }
        catch
        {
            rollout.Dispose();
            throw;
        }
    }

    /// <summary>The chunks' trajectories in order as one scored rollout (the chunks are left to their owners).</summary>
    public static ScoredRollout Concat(IReadOnlyList<ScoredRollout> chunks)
    {
        if (chunks.Count == 0) throw new ArgumentException("No chunks to concatenate.", nameof(chunks));
        var names = chunks[0].Components.Select(c => c.Name).ToArray();
        foreach (var c in chunks)
            if (!c.Components.Select(x => x.Name).SequenceEqual(names))
                throw new ArgumentException("Chunks scored by different rewards cannot be concatenated.", nameof(chunks));
        return new ScoredRollout(Rollout.Concat(chunks.Select(c => c.Rollout).ToList()),
            cat(chunks.Select(c => c.Total).ToArray(), 0).DetachFromDisposeScope(),
            names.Select((n, i) => (n, cat(chunks.Select(c => c.Components[i].Scores).ToArray(), 0).DetachFromDisposeScope())).ToList());
    }

    public void Dispose()
    {
        Rollout.Dispose();
        Total.Dispose();
        foreach (var (_, s) in Components) s.Dispose();
    }
}
