using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// The scorer is also the reward that fine-tuning maximises: pass it to <c>FineTune</c> or a sweep. Scoring goes
/// to the same network as the scorer's columns, with the reward kind the model was trained for — the reward the CLI, the
/// quickstart and the sweeps fine-tune on — which is the <c>RarityReward</c> column only when
/// <see cref="RarityRewardScorerOptions.RewardKind"/> names the same kind.
/// </summary>
public sealed partial class RarityRewardScorerTransformer : IImageReward
{
    /// <summary>The side of the square images the network reads; other sizes are resized to it.</summary>
    public int ImageSize => Model.Options.ImageSize;

    /// <summary>Maps a <see cref="RarityRewardKind.ZScore"/> reward back to the scale of the collection's rarity score.</summary>
    public double ToRarityScore(double zScore) => Model.ToRarityScore(zScore);

    /// <inheritdoc/>
    public string Name => Model.Name;

    /// <inheritdoc/>
    public bool IsDifferentiable => Model.IsDifferentiable;

    /// <inheritdoc/>
    public Tensor Score(Tensor images) => Model.Score(images);
}
