using System.Text.Json;
using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// Reads back a metrics file written with <see cref="NftGenerationMetrics.ToJson"/> (as <c>diffnft evaluate</c> and the
/// quickstart's evaluate stage write it), so a rerun that skips the evaluation still has the numbers.
/// </summary>
internal static class MetricsFile
{
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "n", "fid_resnet18", "kid_resnet18", "kid_std", "rarity_score", "rare_rate", "decodable_rate", "novelty",
        "duplicate_rate", "diversity", "reward_mean",
    };

    public static NftGenerationMetrics Read(string path)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Metrics file '{path}' is not valid JSON ({ex.Message}); delete it to evaluate again.", ex);
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Metrics file '{path}' must hold a JSON object with the keys n, fid_resnet18, …; delete it to evaluate again.");

        double? Optional(string key)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"Metrics file '{path}': '{key}' must be a number or null, got {v.ValueKind}.");
            return v.GetDouble();
        }
        double Required(string key) => Optional(key)
            ?? throw new InvalidDataException($"Metrics file '{path}': '{key}' is missing or null; expected a number.");

        var additional = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
            if (!s_known.Contains(p.Name) && p.Value.ValueKind == JsonValueKind.Number) additional[p.Name] = p.Value.GetDouble();
        bool hasReward = root.TryGetProperty("reward_mean", out _);
        return new NftGenerationMetrics
        {
            Count = (int)Required("n"),
            FidResNet18 = Optional("fid_resnet18") ?? double.NaN,
            KidResNet18 = Optional("kid_resnet18") ?? double.NaN,
            KidStandardDeviation = Optional("kid_std") ?? double.NaN,
            RarityScore = Optional("rarity_score"),
            RareRate = Optional("rare_rate"),
            DecodableRate = Optional("decodable_rate"),
            Novelty = Optional("novelty"),
            DuplicateRate = Required("duplicate_rate"),
            Diversity = Optional("diversity") ?? double.NaN,
            RewardMean = Optional("reward_mean"),
            RewardName = hasReward ? "reward" : null,
            AdditionalMetrics = additional,
        };
    }
}
