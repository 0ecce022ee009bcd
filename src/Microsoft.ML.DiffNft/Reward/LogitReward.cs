using static TorchSharp.torch;
using Microsoft.ML.DiffNft.FineTuning;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// logit(p) = log(p / (1 − p)) of a reward that returns a probability in [0, 1] (such as the rarity model's probability
/// that an image is rare), with p clamped to [ε, 1 − ε]. A bounded probability saturates: near 0 or 1 a large change in
/// the image barely moves it, and per-prompt normalisation then flattens the signal (the flat-reward failure of DDPO on
/// [0, 1] rewards). The logit is unbounded and moves evenly.
/// </summary>
internal sealed class LogitReward : IImageReward, IImageEmbedding
{
    private readonly IImageReward _probability;
    private readonly double _epsilon;

    /// <summary>Wraps a probability reward.</summary>
    /// <param name="probability">A reward whose scores lie in [0, 1].</param>
    /// <param name="epsilon">Clamp margin; the logit then lies within ±log((1 − ε)/ε) (±9.2 for the default 1e-4).</param>
    public LogitReward(IImageReward probability, double epsilon = 1e-4)
    {
        _probability = probability ?? throw new ArgumentNullException(nameof(probability));
        if (!(epsilon > 0 && epsilon < 0.5)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Must lie in (0, 0.5).");
        _epsilon = epsilon;
    }

    /// <summary>The wrapped reward's name.</summary>
    public string Name => _probability.Name;

    /// <summary>Whether the wrapped reward is differentiable.</summary>
    public bool IsDifferentiable => _probability.IsDifferentiable;

    /// <inheritdoc/>
    public Tensor? Embed(Tensor images) => IImageEmbedding.Of(_probability, images);

    /// <inheritdoc/>
    public Tensor Score(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var p = RewardScores.Check(_probability, _probability.Score(images), images.shape[0]).clamp(_epsilon, 1 - _epsilon);
        return (p.log() - (1 - p).log()).MoveToOuterDisposeScope();
    }
}
