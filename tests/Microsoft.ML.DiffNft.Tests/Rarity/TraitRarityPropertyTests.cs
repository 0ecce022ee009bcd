using Microsoft.ML.DiffNft.Rarity;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Rarity.RarityTestHelpers;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// Invariants on random collections: the mean OpenRarity score is 1, and every method's scores and ranks (for fitted and
/// for new tokens) equal an independent plain implementation.
/// </summary>
public class TraitRarityPropertyTests
{
    /// <summary>
    /// A random collection: Zipf-like values with random case and padding, missing traits, "none" and blank values, and
    /// a few duplicated tokens (exact ties).
    /// </summary>
    internal static List<IReadOnlyDictionary<string, string?>> RandomCollection(Random rng, int n, int traitTypes)
    {
        var types = Enumerable.Range(0, traitTypes).Select(t => $"Trait {t}").ToArray();
        var vocab = types.Select(_ => rng.Next(1, 12)).ToArray();
        var tokens = new List<IReadOnlyDictionary<string, string?>>();
        for (int i = 0; i < n; i++)
        {
            if (i > 0 && rng.NextDouble() < 0.05)
            {
                tokens.Add(tokens[rng.Next(tokens.Count)]);
                continue;
            }
            var token = new Dictionary<string, string?>();
            for (int t = 0; t < types.Length; t++)
            {
                double u = rng.NextDouble();
                if (u < 0.15) continue;                            // lacks the trait
                if (u < 0.18) { token[types[t]] = "None"; continue; }
                if (u < 0.19) { token[types[t]] = "  "; continue; } // blank once trimmed
                int v = (int)Math.Floor(vocab[t] * Math.Pow(rng.NextDouble(), 2.5));   // skewed towards 0
                string text = $"value {v}";
                if (rng.NextDouble() < 0.3) text = text.ToUpperInvariant();
                if (rng.NextDouble() < 0.2) text = " " + text + "\t";
                token[types[t]] = text;
            }
            tokens.Add(token);
        }
        return tokens;
    }

    [Fact]
    public void MeanOpenRarityScoreIsOne()
    {
        var rng = new Random(20260101);
        var ml = new MLContext(seed: 1);
        int tested = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            var tokens = RandomCollection(rng, rng.Next(2, 400), rng.Next(1, 9));
            var view = TextTable.FromTokens(tokens);
            var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);
            if (rarity.Table.Entropy == 0) continue;   // every token alike: all scores are 0
            double mean = ReadScores(rarity.Transform(view)).Average(r => r.Score);
            Assert.InRange(mean, 1 - 1e-9, 1 + 1e-9);
            tested++;
        }
        Assert.True(tested >= 30, $"only {tested} random collections had a non-zero entropy");
    }

    [Theory]
    [InlineData(RarityMethod.OpenRarity)]
    [InlineData(RarityMethod.SumOfInverseFrequency)]
    [InlineData(RarityMethod.Statistical)]
    [InlineData(RarityMethod.Average)]
    public void ScoresAndRanksEqualPlainImplementation(RarityMethod method)
    {
        var rng = new Random(7 + (int)method);
        var ml = new MLContext(seed: 1);
        for (int trial = 0; trial < 15; trial++)
        {
            var tokens = RandomCollection(rng, rng.Next(1, 300), rng.Next(1, 7));
            var traitOrder = tokens.SelectMany(t => t.Keys).Distinct().ToList();
            if (traitOrder.Count == 0) continue;
            var view = TextTable.FromTokens(tokens, traitOrder: traitOrder);
            var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { Method = method, UseDoublePrecision = true }).Fit(view);
            var naive = new NaiveRarity(tokens, method);
            AssertRelative(naive.Entropy, rarity.Table.Entropy, 1e-12, "entropy");

            var rows = ReadScores(rarity.Transform(view));
            var ranks = naive.FittedRanks();
            for (int i = 0; i < tokens.Count; i++)
            {
                AssertRelative(naive.FittedScore(i), rows[i].Score, 1e-12, $"trial {trial} token {i} score");
                Assert.Equal(ranks[i], rows[i].Rank);
            }

            // New tokens (from a different random collection, so with unseen values and unusual trait counts).
            var fresh = RandomCollection(rng, 30, traitOrder.Count)
                .Select(t => (IReadOnlyDictionary<string, string?>)t.ToDictionary(kv => traitOrder[int.Parse(kv.Key["Trait ".Length..])], kv => kv.Value))
                .ToList();
            var freshRows = ReadScores(rarity.Transform(TextTable.FromTokens(fresh, traitOrder: traitOrder)));
            for (int i = 0; i < fresh.Count; i++)
            {
                var (unique, score) = naive.Score(fresh[i]);
                Assert.True(double.IsFinite(freshRows[i].Score));
                AssertRelative(score, freshRows[i].Score, 1e-12, $"trial {trial} new token {i} score {string.Join("; ", fresh[i].Select(kv => kv.Key + "=[" + kv.Value + "]"))} table {rarity.Table.Score(fresh[i]).Score}");
                Assert.Equal(naive.Rank(unique, score), freshRows[i].Rank);
                Assert.Equal(unique, rarity.Table.Score(fresh[i]).UniqueTraitCount);
            }
        }
    }

    [Fact]
    public void UnseenValuesScoreAsIfOneTokenHadThem()
    {
        // Four tokens; "hat" is never "crown" and every token has a hat.
        var tokens = new List<IReadOnlyDictionary<string, string?>>
        {
            new Dictionary<string, string?> { ["hat"] = "cap", ["eyes"] = "blue" },
            new Dictionary<string, string?> { ["hat"] = "cap", ["eyes"] = "green" },
            new Dictionary<string, string?> { ["hat"] = "beanie", ["eyes"] = "blue" },
            new Dictionary<string, string?> { ["hat"] = "cap", ["eyes"] = "blue" },
        };
        var ml = new MLContext(seed: 1);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(TextTable.FromTokens(tokens));
        double h = rarity.Table.Entropy;

        // Unseen value: −log2(1/4) = 2 bits for the hat, like the unique "beanie"; eyes blue 3/4; trait count 2 (4/4).
        var crown = rarity.Table.Score(new Dictionary<string, string?> { ["hat"] = "Crown", ["eyes"] = "blue" });
        var beanie = rarity.Table.Score(new Dictionary<string, string?> { ["hat"] = "beanie", ["eyes"] = "blue" });
        Assert.Equal(beanie.Score, crown.Score);
        AssertRelative((2 - Math.Log2(0.75)) / h, crown.Score, 1e-15, "unseen value");
        Assert.Equal(beanie.UniqueTraitCount, crown.UniqueTraitCount);
        Assert.Equal(beanie.Rank, crown.Rank);

        // Missing hat, which every fitted token has: null is unseen (c = 1 → 2 bits), and the trait count 1 is unseen too
        // (2 bits); nulls are not attributes, so only the trait count is a unique trait.
        var bare = rarity.Table.Score(new Dictionary<string, string?> { ["eyes"] = "blue" });
        AssertRelative((2 - Math.Log2(0.75) + 2) / h, bare.Score, 1e-15, "missing trait");
        Assert.Equal(1, bare.UniqueTraitCount);
        Assert.True(double.IsFinite(bare.Score));

        // Through the pipeline too, with float output: no NaN, no exception.
        var floatRarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.FromTokens(tokens));
        var rows = ReadScores(floatRarity.Transform(TextTable.FromTokens(
            [new Dictionary<string, string?> { ["hat"] = "never seen", ["eyes"] = "" }], traitOrder: ["hat", "eyes"])));
        Assert.True(float.IsFinite((float)rows[0].Score) && rows[0].Score > 0);
        Assert.Equal(1, rows[0].Rank);   // three unique traits: more than any fitted token
        Assert.True(rows[0].IsRare);
    }
}
