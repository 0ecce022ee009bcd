using Microsoft.ML.DiffNft.Reward;
namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// How the fine-tuner combines the components of a <see cref="WeightedReward"/> into the signal it trains on. The logged
/// reward is always the raw weighted sum; only the training signal changes.
/// </summary>
public enum RewardComponentScaling
{
    /// <summary>
    /// Σ wᵢ·Rᵢ on the components' own scales. A component whose scores spread 100 times wider than another's then
    /// dominates every weight but the extreme ones: PPO's group-normalised advantages do not depend on the sum's overall
    /// scale, so weights (0.25, 0.75) and (1, 0) train almost the same objective.
    /// </summary>
    Raw,

    /// <summary>
    /// Σ wᵢ·(Rᵢ − mean Rᵢ)/std Rᵢ, each component standardised over the iteration's batch before weighting (a
    /// minibatch's in backprop mode, with the statistics held constant in the gradient). The weights then say how much
    /// each objective counts whatever its units, so a sweep over the rarity weight moves the trade-off evenly. A reward
    /// with a single non-zero component is used as it is: standardising it would change nothing PPO sees.
    /// </summary>
    Standardized,
}
