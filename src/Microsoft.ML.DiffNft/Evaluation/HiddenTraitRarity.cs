using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Rarity of a decoded image whose some layers cannot be seen (a Noun's body under a full-body accessory): the image is
/// scored by its <em>least rare</em> reading. Each hidden trait type in turn takes the value of the reference collection
/// that makes the score least rare, the visible traits and the hidden ones already chosen held fixed — exact for one
/// hidden layer, one greedy pass for several. So a hidden part never makes an image rarer than its visible parts prove:
/// the decoder's own reading of a hidden layer is only one valid reading among many, and counting it when it happens to
/// be a rare value inflated the rare rate of a model that reproduces the collection (11.6 % instead of about 5 %).
/// </summary>
internal static class HiddenTraitRarity
{
    /// <summary>
    /// Scores <paramref name="traits"/> (trait type → value, as <see cref="TraitRarityTable.Score(IReadOnlyDictionary{string, string})"/> takes them) with the
    /// types in <paramref name="hidden"/> (normalised names) set to their least rare readings; <paramref name="traits"/>
    /// is updated with the chosen values.
    /// </summary>
    public static TraitRarityResult Score(TraitRarityTable table, Dictionary<string, string?> traits, IReadOnlySet<string> hidden)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(traits);
        ArgumentNullException.ThrowIfNull(hidden);
        foreach (var trait in table.Traits)
        {
            if (!hidden.Contains(trait.Name) || trait.Values.Count == 0) continue;
            // The key under which the caller stored this type (any spelling), else the table's own.
            string key = traits.Keys.FirstOrDefault(k => TraitTextEquals(k, trait.Name)) ?? trait.TraitType;
            string? best = null;
            double bestKey = double.PositiveInfinity;
            foreach (var value in trait.Values)
            {
                traits[key] = value;
                double score = table.Score(traits).Score;
                // Least rare: the lowest score where higher is rarer, the highest otherwise.
                double k = table.HigherIsRarer ? score : -score;
                if (k < bestKey) (bestKey, best) = (k, value);
            }
            traits[key] = best;
        }
        return table.Score(traits);
    }

    private static bool TraitTextEquals(string type, string name) => string.Equals(type.Trim(), name, StringComparison.OrdinalIgnoreCase);
}
