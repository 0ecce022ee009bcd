using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>Options of <see cref="RarityRewardScorerTransformer"/>: column names and the reward it reports.</summary>
public sealed record RarityRewardScorerOptions
{
    /// <summary>Input image column (<see cref="Microsoft.ML.Data.MLImage"/> or a text path to an image file).</summary>
    public string ImageColumnName { get; init; } = "Image";

    /// <summary>Output reward column (Single): see <see cref="RewardKind"/> for its scale.</summary>
    public string RewardColumnName { get; init; } = "RarityReward";

    /// <summary>Output column (Single) with the calibrated probability that the image is rare.</summary>
    public string RareProbabilityColumnName { get; init; } = "RareProbability";

    /// <summary>Output column (vector of Single, the ViT width) with the image's embedding.</summary>
    public string EmbeddingColumnName { get; init; } = "Embedding";

    /// <summary>What the reward column holds; the predicted z-scored rarity score by default.</summary>
    public RarityRewardKind RewardKind { get; init; } = RarityRewardKind.ZScore;

    /// <summary>Device used when loading a model file.</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        var names = new[] { (nameof(ImageColumnName), ImageColumnName), (nameof(RewardColumnName), RewardColumnName),
            (nameof(RareProbabilityColumnName), RareProbabilityColumnName), (nameof(EmbeddingColumnName), EmbeddingColumnName) };
        foreach (var (name, value) in names)
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentOutOfRangeException(name, value, "A column name cannot be empty.");
        var outputs = names.Skip(1).Select(n => n.Item2).ToList();
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Count)
            throw new ArgumentOutOfRangeException(nameof(RewardColumnName), $"The output column names must differ; got {string.Join(", ", outputs.Select(n => $"'{n}'"))}.");
        if (!Enum.IsDefined(RewardKind)) throw new ArgumentOutOfRangeException(nameof(RewardKind), RewardKind, "Unknown reward kind.");
    }
}
