using Microsoft.ML.DiffNft.Reward;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Checks what a reward returned, so a faulty reward fails with its name instead of corrupting training.</summary>
internal static class RewardScores
{
    /// <summary>Returns <paramref name="scores"/> when it is float32 [n] and finite; throws otherwise.</summary>
    public static Tensor Check(IImageReward reward, Tensor? scores, long n)
    {
        if (scores is null)
            throw new InvalidOperationException($"Reward '{reward.Name}' returned no tensor.");
        if (scores.dim() != 1 || scores.shape[0] != n)
            throw new InvalidOperationException($"Reward '{reward.Name}' returned a tensor of shape [{string.Join(", ", scores.shape)}]; expected [{n}], one score per image.");
        if (scores.dtype != float32)
            throw new InvalidOperationException($"Reward '{reward.Name}' returned {scores.dtype} scores; expected float32.");
        using (no_grad())
        {
            using var finite = scores.isfinite().all();
            if (!finite.item<bool>())
                throw new InvalidOperationException($"Reward '{reward.Name}' returned a non-finite score (NaN or ±∞) for at least one of {n} images.");
        }
        return scores;
    }

    /// <summary>
    /// Scores images: the total and each computed component (the components of a <see cref="WeightedReward"/> with a
    /// non-zero weight, otherwise the reward itself).
    /// </summary>
    public static (Tensor Total, IReadOnlyList<(string Name, Tensor Scores)> Components) Score(IImageReward reward, Tensor images)
    {
        if (reward is WeightedReward weighted) return weighted.ScoreComponents(images);
        var s = Check(reward, reward.Score(images), images.shape[0]);
        return (s, new[] { (reward.Name, s) });
    }

    /// <summary>Added to a component's standard deviation, so a component that scores a batch evenly contributes 0.</summary>
    public const double StdEpsilon = 1e-6;

    /// <summary>
    /// The signal to train on: <paramref name="total"/> itself for <see cref="RewardComponentScaling.Raw"/>, for a reward
    /// with one computed component, or for fewer than two images; otherwise Σ wᵢ·(sᵢ − mean sᵢ)/(std sᵢ + ε) over the
    /// batch, in the order <see cref="WeightedReward.ScoreComponents"/> returned the components. The statistics are
    /// detached, so the gradient of the signal is Σ (wᵢ/std sᵢ)·∇sᵢ: each component's gradient on a common scale.
    /// </summary>
    public static Tensor TrainingSignal(IImageReward reward, Tensor total, IReadOnlyList<(string Name, Tensor Scores)> components,
        RewardComponentScaling scaling)
    {
        if (scaling == RewardComponentScaling.Raw || reward is not WeightedReward weighted || components.Count < 2 || total.shape[0] < 2)
            return total;
        var weights = weighted.Components.Where(c => c.Weight != 0).Select(c => c.Weight).ToArray();
        if (weights.Length != components.Count)
            throw new InvalidOperationException($"Reward '{reward.Name}' has {weights.Length} weighted components but {components.Count} were scored.");
        Tensor signal = zeros_like(total);
        for (int i = 0; i < components.Count; i++)
        {
            var s = components[i].Scores;
            Tensor mean, std;
            using (no_grad())
            {
                mean = s.detach().mean();
                std = s.detach().std() + StdEpsilon;
            }
            var next = signal + (s - mean) / std * weights[i];
            signal.Dispose();
            signal = next;
        }
        return signal;
    }

    /// <summary>The names of the components <see cref="Score"/> reports, in order.</summary>
    public static IReadOnlyList<string> ComponentNames(IImageReward reward) =>
        reward is WeightedReward weighted
            ? weighted.Components.Where(c => c.Weight != 0).Select(c => c.Reward.Name).ToList()
            : new[] { reward.Name };

    /// <summary>Mean of each component's scores.</summary>
    public static Dictionary<string, double> ComponentMeans(IReadOnlyList<(string Name, Tensor Scores)> components)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, scores) in components)
        {
            using var mean = scores.mean();
            result[name] = mean.item<float>();
        }
        return result;
    }
}
