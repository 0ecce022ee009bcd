using System.Text.Json;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>Reads the JSON that <see cref="NftGenerationMetrics.ToJson"/> writes (the CLI's and a sweep's <c>metrics.json</c>).</summary>
internal static class NftGenerationMetricsJson
{
    private static readonly string[] s_required = ["n", "fid_resnet18", "kid_resnet18", "kid_std", "duplicate_rate", "diversity"];
    private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
    {
        "n", "fid_resnet18", "kid_resnet18", "kid_std", "rarity_score", "rare_rate", "decodable_rate", "novelty", "duplicate_rate",
        "diversity", "reward_mean",
    };

    /// <summary>Reads a metrics file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a metrics object; the message names the file and the key.</exception>
    public static NftGenerationMetrics Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Metrics file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses metrics JSON; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">Not a metrics object: malformed JSON, a missing required key or a non-numeric value.</exception>
    public static NftGenerationMetrics Parse(string json, string source = "metrics JSON")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{source}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{source}' must hold a JSON object of metrics (n, fid_resnet18, …), found {root.ValueKind}.");
            foreach (var key in s_required)
                if (!root.TryGetProperty(key, out _))
                    throw new InvalidDataException($"'{source}' lacks the required metric '{key}' (expected the keys {string.Join(", ", s_required)}).");
            double? Get(string key)
            {
                if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v))
                    throw new InvalidDataException($"'{source}': metric '{key}' must be a number or null, found {e.ValueKind} '{e.GetRawText()}'.");
                return v;
            }
            double Required(string key) => Get(key) ?? double.NaN;
            double n = Required("n");
            if (!(n >= 2) || n != Math.Floor(n) || n > int.MaxValue)
                throw new InvalidDataException($"'{source}': metric 'n' must be a whole number of at least 2, found {n}.");
            var additional = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
                if (!s_known.Contains(p.Name) && Get(p.Name) is { } extra) additional[p.Name] = extra;
            bool hasReward = root.TryGetProperty("reward_mean", out _);
            return new NftGenerationMetrics
            {
                Count = (int)n,
                FidResNet18 = Required("fid_resnet18"),
                KidResNet18 = Required("kid_resnet18"),
                KidStandardDeviation = Required("kid_std"),
                RarityScore = Get("rarity_score"),
                RareRate = Get("rare_rate"),
                DecodableRate = Get("decodable_rate"),
                Novelty = Get("novelty"),
                DuplicateRate = Required("duplicate_rate"),
                Diversity = Required("diversity"),
                RewardMean = Get("reward_mean"),
                // ToJson writes reward_mean only when a reward was given; its name is not stored.
                RewardName = hasReward ? "reward" : null,
                AdditionalMetrics = additional,
            };
        }
    }
}
