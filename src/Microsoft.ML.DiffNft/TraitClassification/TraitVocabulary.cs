using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>The heads of a trait classifier learned from a collection's training split, and every token's class per head.</summary>
internal sealed class TraitVocabulary
{
    private TraitVocabulary(IReadOnlyList<TraitHead> heads, int[,] classes)
    {
        Heads = heads;
        Classes = classes;
    }

    /// <summary>One head per trait type with at least one value on a training token.</summary>
    public IReadOnlyList<TraitHead> Heads { get; }

    /// <summary>[token, head]: the token's class; −1 when its value never occurs in the training split.</summary>
    public int[,] Classes { get; }

    /// <summary>
    /// Builds the heads from the training tokens <paramref name="train"/>: values are compared trimmed and lower-cased
    /// (as OpenRarity compares them), an empty value counts as missing, and each value keeps its most frequent spelling.
    /// </summary>
    /// <exception cref="ArgumentException">No trait type has a value on a training token, every trait type has one value on
    /// all of them, or two trait types are the same once trimmed and lower-cased.</exception>
    public static TraitVocabulary Build(NftCollection collection, int[] train, bool includeNumeric)
    {
        var types = collection.GetTraitColumns().Where(c => includeNumeric || !c.IsNumeric).Select(c => c.TraitType).ToList();
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in types)
            if (!byName.TryAdd(TraitText.Normalize(t), t))
                throw new ArgumentException($"Collection '{collection.Name}': trait types '{byName[TraitText.Normalize(t)]}' and '{t}' are the same once trimmed and lower-cased, as OpenRarity compares them; merge them.", nameof(collection));

        var heads = new List<TraitHead>();
        var indexes = new List<Dictionary<string, int>>();
        foreach (var type in types)
        {
            // Per normalised value: token count and the count of each spelling.
            var counts = new Dictionary<string, (int Count, Dictionary<string, int> Spellings)>(StringComparer.Ordinal);
            foreach (int i in train)
            {
                if (Value(collection.Tokens[i], type) is not { } raw) continue;
                string key = TraitText.Normalize(raw);
                if (!counts.TryGetValue(key, out var entry)) counts[key] = entry = (0, new Dictionary<string, int>(StringComparer.Ordinal));
                string spelling = raw.Trim();
                entry.Spellings[spelling] = entry.Spellings.GetValueOrDefault(spelling) + 1;
                counts[key] = (entry.Count + 1, entry.Spellings);
            }
            if (counts.Count == 0) continue;
            var ordered = counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
            var values = ordered.Select(kv => kv.Value.Spellings.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal).First().Key).ToArray();
            heads.Add(new TraitHead(type, values));
            indexes.Add(ordered.Select((kv, k) => (kv.Key, k + 1)).ToDictionary(p => p.Key, p => p.Item2, StringComparer.Ordinal));
        }
        if (heads.Count == 0)
            throw new ArgumentException(
                $"Collection '{collection.Name}' has no {(includeNumeric ? "" : "non-numeric ")}trait value on its training tokens: there is nothing for a trait classifier to learn.",
                nameof(collection));

        var classes = new int[collection.Count, heads.Count];
        for (int i = 0; i < collection.Count; i++)
            for (int h = 0; h < heads.Count; h++)
                classes[i, h] = Value(collection.Tokens[i], heads[h].TraitType) is { } raw
                    ? indexes[h].GetValueOrDefault(TraitText.Normalize(raw), -1)
                    : 0;
        // A head whose training tokens all share one class (one value, never missing) teaches nothing; with only such heads
        // the "classifier" would be a constant, trained for nothing.
        if (heads.Select((_, h) => train.Select(i => classes[i, h]).Distinct().Take(2).Count()).All(c => c < 2))
            throw new ArgumentException(
                $"Collection '{collection.Name}': every trait type has one value on {(train.Length == 1 ? "its only training token" : $"all {train.Length} training tokens")} " +
                $"({string.Join(", ", heads.Take(5).Select(h => $"'{h.TraitType}' = '{h.Values[0]}'"))}{(heads.Count > 5 ? ", …" : "")}): " +
                "there is nothing for a trait classifier to tell apart; expected a trait type with at least two values.",
                nameof(collection));
        return new TraitVocabulary(heads, classes);
    }

    /// <summary>The token's value of a trait type, or null when it lacks it (or the value is blank).</summary>
    private static string? Value(NftToken token, string type) =>
        token.Find(type) is { } a && !string.IsNullOrWhiteSpace(a.Value) ? a.Value : null;
}
