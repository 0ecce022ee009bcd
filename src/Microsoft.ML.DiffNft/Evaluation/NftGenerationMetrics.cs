using System.Text;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// What <see cref="NftGenerationEvaluator"/> measured about a set of generated images against a reference, like ML.NET's
/// <c>RegressionMetrics</c>. Distribution metrics are always present; the rarity metrics need a trait decoder and a
/// reference with traits, and are null otherwise.
/// </summary>
public sealed record NftGenerationMetrics
{
    /// <summary>N: the number of generated and of reference images compared (<c>n</c>).</summary>
    public required int Count { get; init; }

    /// <summary>FID over ResNet-18 features (<c>fid_resnet18</c>); lower is closer. Not comparable with Inception FIDs, nor across N.</summary>
    public required double FidResNet18 { get; init; }

    /// <summary>KID over ResNet-18 features (<c>kid_resnet18</c>): unbiased MMD², ≈ 0 for one distribution.</summary>
    public required double KidResNet18 { get; init; }

    /// <summary>The standard deviation of KID over its subsets (<c>kid_std</c>).</summary>
    public required double KidStandardDeviation { get; init; }

    /// <summary>
    /// The mean OpenRarity score, against the reference collection's frequency table, of the traits decoded from the
    /// decodable generated images (<c>rarity_score</c>); ≈ 1 for a sample of the reference itself. Null without a decoder,
    /// or when no image is decodable.
    /// </summary>
    public double? RarityScore { get; init; }

    /// <summary>
    /// The share of all generated images that are decodable and score at or above the reference's rare threshold (its
    /// top <see cref="NftGenerationEvaluatorOptions.RareQuantile"/>, the 95th percentile by default) (<c>rare_rate</c>);
    /// ≈ 0.05 for a sample of the reference. Undecodable images never count as rare, and a layer the image does not show
    /// (<see cref="DecodedImageTraits.UnobservableTraitTypes"/>) is scored by its least rare reading, so hidden parts never
    /// make an image rare (the same rule holds for <see cref="RarityScore"/>).
    /// </summary>
    public double? RareRate { get; init; }

    /// <summary>The share of generated images whose traits the decoder recovers cleanly (<c>decodable_rate</c>): a fidelity signal.</summary>
    public double? DecodableRate { get; init; }

    /// <summary>The share of decodable generated images whose decoded trait combination no reference token has (<c>novelty</c>).</summary>
    public double? Novelty { get; init; }

    /// <summary>
    /// The share of generated images that repeat an earlier one (<c>duplicate_rate</c>): the same decoded traits, or
    /// near-identical pixels; N minus the number of distinct groups, over N.
    /// </summary>
    public required double DuplicateRate { get; init; }

    /// <summary>The mean Euclidean distance between the ResNet-18 features of two different generated images (<c>diversity</c>).</summary>
    public required double Diversity { get; init; }

    /// <summary>The reward model's mean over the generated images (<c>reward_mean</c>); null when no reward was given.</summary>
    public double? RewardMean { get; init; }

    /// <summary>The reward model's name, when one was given.</summary>
    public string? RewardName { get; init; }

    /// <summary>Metrics of the additional feature extractors: <c>fid_{name}</c>, <c>kid_{name}</c>, <c>kid_std_{name}</c>.</summary>
    public IReadOnlyDictionary<string, double> AdditionalMetrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The trait decoder that judged the generated images, or null when none was available.</summary>
    public string? TraitDecoder { get; init; }

    /// <summary>The reference collection's rare threshold (OpenRarity score), or null without rarity metrics.</summary>
    public double? RareThreshold { get; init; }

    /// <summary>
    /// The OpenRarity score of each decodable generated image, in the order of the compared sample (the values whose mean
    /// is <see cref="RarityScore"/>), for histograms; null without rarity metrics. Not part of <see cref="ToJson"/>.
    /// </summary>
    public IReadOnlyList<double>? RarityScores { get; init; }

    /// <summary>
    /// The OpenRarity score of every reference token against the same frequency table, for histograms; null without
    /// rarity metrics. Not part of <see cref="ToJson"/>.
    /// </summary>
    public IReadOnlyList<double>? ReferenceRarityScores { get; init; }

    /// <summary>
    /// The metrics as a JSON object with exactly the keys <c>n</c>, <c>fid_resnet18</c>, <c>kid_resnet18</c>,
    /// <c>kid_std</c>, <c>rarity_score</c>, <c>rare_rate</c>, <c>decodable_rate</c>, <c>novelty</c>,
    /// <c>duplicate_rate</c>, <c>diversity</c>, then <c>reward_mean</c> when a reward was given and the additional
    /// extractors' keys when there are any. Unavailable values are <c>null</c>.
    /// </summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("n", Count);
            Number(w, "fid_resnet18", FidResNet18);
            Number(w, "kid_resnet18", KidResNet18);
            Number(w, "kid_std", KidStandardDeviation);
            Number(w, "rarity_score", RarityScore);
            Number(w, "rare_rate", RareRate);
            Number(w, "decodable_rate", DecodableRate);
            Number(w, "novelty", Novelty);
            Number(w, "duplicate_rate", DuplicateRate);
            Number(w, "diversity", Diversity);
            if (RewardName is not null) Number(w, "reward_mean", RewardMean);
            foreach (var (key, value) in AdditionalMetrics) Number(w, key, value);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Number(Utf8JsonWriter w, string key, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(key, v);
        else w.WriteNull(key);
    }
}
