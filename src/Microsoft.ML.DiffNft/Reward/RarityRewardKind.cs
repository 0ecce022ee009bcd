namespace Microsoft.ML.DiffNft.Reward;

/// <summary>What a <see cref="RarityRewardModel"/> returns as its reward (<c>RarityReward</c> column, <see cref="RarityRewardModel.Score"/>).</summary>
/// <remarks>
/// The default, <see cref="ZScore"/>, is the predicted rarity score standardised over the training collection: unbounded,
/// linear in the rarity score and not saturated at the top, which is what a policy-gradient fine-tuner needs (a
/// probability flattens out near 1 exactly where the rarest images are). The two others come from the calibrated rare
/// head and suit a "be in the top 5 %" objective; prefer them to the probability itself for RL, whose gradient vanishes as p nears 1.
/// </remarks>
public enum RarityRewardKind
{
    /// <summary>
    /// The predicted OpenRarity (or other) score as a z-score over the training split: (score − mean) / std. 0 is an
    /// average token, +1 one standard deviation rarer. Convert back with <see cref="RarityRewardModel.ToRarityScore"/>.
    /// </summary>
    ZScore,
    /// <summary>The calibrated log-odds that the image is rare: logit(<c>RareProbability</c>).</summary>
    RareLogit,
    /// <summary>The log of the calibrated rare probability, ln(<c>RareProbability</c>) ≤ 0.</summary>
    RareLogProbability,
}
