using static TorchSharp.torch;
using Microsoft.ML.DiffNft.FineTuning;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// A weighted sum of rewards, Σ wᵢ·Rᵢ — for fine-tuning, <c>w_rarity·R_rarity + w_fidelity·R_fidelity</c>. Any weight may be
/// 0 (all of them, too: the sum is then 0 and only the KL term trains); a reward whose weight is 0 is never called, so it
/// costs nothing and cannot fail. Negative weights are allowed (penalties).
/// </summary>
internal sealed class WeightedReward : IImageReward, IImageEmbedding
{
    private readonly (IImageReward Reward, double Weight)[] _components;

    /// <summary>Creates a weighted sum.</summary>
    /// <param name="components">Rewards with their weights; the names must be distinct.</param>
    public WeightedReward(params (IImageReward Reward, double Weight)[] components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Length == 0) throw new ArgumentException("A weighted reward needs at least one component.", nameof(components));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < components.Length; i++)
        {
            var (reward, weight) = components[i];
            if (reward is null) throw new ArgumentException($"Component {i} of the weighted reward is null.", nameof(components));
            if (!double.IsFinite(weight)) throw new ArgumentException($"The weight of reward '{reward.Name}' must be finite, got {weight}.", nameof(components));
            if (string.IsNullOrWhiteSpace(reward.Name)) throw new ArgumentException($"Component {i} of the weighted reward has no name.", nameof(components));
            if (!names.Add(reward.Name)) throw new ArgumentException($"Two components of the weighted reward are named '{reward.Name}'; names label the logged components and must be distinct.", nameof(components));
        }
        _components = components.ToArray();
    }

    /// <summary>
    /// The paper's composite: <paramref name="rarityWeight"/>·rarity + <paramref name="fidelityWeight"/>·fidelity.
    /// </summary>
    public static WeightedReward RarityAndFidelity(IImageReward rarity, double rarityWeight, IImageReward fidelity, double fidelityWeight) =>
        new((rarity ?? throw new ArgumentNullException(nameof(rarity)), rarityWeight),
            (fidelity ?? throw new ArgumentNullException(nameof(fidelity)), fidelityWeight));

    /// <summary>The components and their weights.</summary>
    public IReadOnlyList<(IImageReward Reward, double Weight)> Components => _components;

    /// <summary><c>weighted(name=w, …)</c> with the exact weights (checkpoints compare it to recognise the run's reward).</summary>
    public string Name => "weighted(" + string.Join(", ", _components.Select(c => FormattableString.Invariant($"{c.Reward.Name}={c.Weight:R}"))) + ")";

    /// <summary>True when every component with a non-zero weight is differentiable.</summary>
    public bool IsDifferentiable => _components.Where(c => c.Weight != 0).All(c => c.Reward.IsDifferentiable);

    /// <summary>The embedding of the first component with a non-zero weight that has one.</summary>
    public Tensor? Embed(Tensor images)
    {
        foreach (var (reward, weight) in _components)
            if (weight != 0 && IImageEmbedding.Of(reward, images) is { } embedding) return embedding;
        return null;
    }

    /// <inheritdoc/>
    public Tensor Score(Tensor images)
    {
        var (total, parts) = ScoreComponents(images);
        foreach (var (_, t) in parts) t.Dispose();
        return total;
    }

    /// <summary>
    /// Scores a batch and returns the weighted total together with each computed component's unweighted scores (components
    /// with weight 0 are skipped and absent), so callers can log them.
    /// </summary>
    public (Tensor Total, IReadOnlyList<(string Name, Tensor Scores)> Components) ScoreComponents(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        long n = images.shape[0];
        var parts = new List<(string, Tensor)>();
        Tensor total = zeros(new[] { n }, float32, images.device);
        foreach (var (reward, weight) in _components)
        {
            if (weight == 0) continue;
            var s = RewardScores.Check(reward, reward.Score(images), n);
            var next = total + s * weight;
            total.Dispose();
            total = next;
            parts.Add((reward.Name, s));
        }
        return (total, parts);
    }
}
