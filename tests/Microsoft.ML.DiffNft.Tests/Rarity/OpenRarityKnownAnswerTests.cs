using System.Text.Json;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Rarity.RarityTestHelpers;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// The OpenRarity 0.7.5 test suite's collections (tests/data/openrarity): frequency tables, entropy, scores within 1e-12
/// relative, unique-attribute counts and ranks exactly.
/// </summary>
public class OpenRarityKnownAnswerTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(DataPath("openrarity", "openrarity_known_answers.json")));
        foreach (var p in doc.RootElement.EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesOpenRarityReference(string caseName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DataPath("openrarity", "openrarity_known_answers.json")));
        var c = doc.RootElement.GetProperty(caseName);
        var tokens = c.GetProperty("input").EnumerateArray()
            .Select(t => (IReadOnlyDictionary<string, string?>)t.EnumerateObject().ToDictionary(p => p.Name, p => (string?)p.Value.GetString()))
            .ToList();
        var view = TextTable.FromTokens(tokens);

        var ml = new MLContext(seed: 1);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);
        var table = rarity.Table;

        // Entropy.
        AssertRelative(c.GetProperty("collection_entropy_bits").GetDouble(), table.Entropy, 1e-12, $"{caseName} entropy");

        // Frequency tables, including meta_trait:trait_count (nulls are not listed in the reference).
        var freq = c.GetProperty("freq");
        foreach (var trait in freq.EnumerateObject())
        {
            var expected = trait.Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Dictionary<string, int> actual;
            if (trait.Name == "meta_trait:trait_count")
                actual = table.TraitCountCounts.Select((n, k) => (n, k)).Where(x => x.n > 0)
                    .ToDictionary(x => x.k.ToString(System.Globalization.CultureInfo.InvariantCulture), x => x.n);
            else
            {
                var t = Assert.Single(table.Traits, t => t.Name == trait.Name);
                actual = t.Values.Zip(t.Counts).ToDictionary(p => p.First, p => p.Second);
            }
            Assert.Equal(expected.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
        }
        Assert.Equal(freq.EnumerateObject().Count(), table.Traits.Count + 1);

        // Scores, ranks and unique counts of every token, through the pipeline and through Table.Score.
        var rows = ReadScores(rarity.Transform(view)).ToDictionary(r => r.TokenId);
        foreach (var expected in c.GetProperty("ranked").EnumerateArray())
        {
            int id = expected.GetProperty("id").GetInt32();
            var row = rows[id.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            double score = expected.GetProperty("score").GetDouble();
            AssertRelative(score, row.Score, 1e-12, $"{caseName} token {id} score");
            Assert.Equal(expected.GetProperty("rank").GetInt32(), row.Rank);

            var single = table.Score(tokens[id]);
            Assert.Equal(row.Score, single.Score);
            Assert.Equal(row.Rank, single.Rank);
            Assert.Equal(expected.GetProperty("unique_attribute_count").GetInt32(), single.UniqueTraitCount);
        }
        Assert.Equal(tokens.Count, rows.Count);

        // The mean OpenRarity score of a collection is 1 (H is the mean information content), unless H = 0.
        if (table.Entropy > 0)
            Assert.InRange(rows.Values.Average(r => r.Score), 1 - 1e-12, 1 + 1e-12);
    }

    [Fact]
    public void RanksLikeTheRankerTestWithSameUniqueCountsAndDifferentScores()
    {
        // test_set_ranks_same_unique_different_ic_score: (id, score, unique) = (1, 1.5, 1), (2, 1.5, 2), (3, 0.2, 3),
        // (4, 7.0, 0) → id3 rank 1, id2 rank 2, id1 rank 2 (equal score, whatever the unique count), id4 rank 4.
        var ranking = RarityRanking.FromTokens([1, 2, 3, 0], [1.5, 1.5, 0.2, 7.0], 0.05);
        Assert.Equal(2, ranking.Rank(1, 1.5));
        Assert.Equal(2, ranking.Rank(2, 1.5));
        Assert.Equal(1, ranking.Rank(3, 0.2));
        Assert.Equal(4, ranking.Rank(0, 7.0));
    }

    [Fact]
    public void CompetitionRanksShareWithinRelativeOneInABillion()
    {
        // 1, 2, 2, 2, 5: the middle three differ by less than 1e-9 relative; a fourth at 2e-9 below is a new rank.
        var ranking = RarityRanking.FromTokens([0, 0, 0, 0, 0, 0], [3.0, 2.0, 2.0 * (1 - 4e-10), 2.0 * (1 - 8e-10), 2.0 * (1 - 2e-8), 1.0], 0.05);
        Assert.Equal(1, ranking.Rank(0, 3.0));
        Assert.Equal(2, ranking.Rank(0, 2.0));
        Assert.Equal(2, ranking.Rank(0, 2.0 * (1 - 4e-10)));
        Assert.Equal(2, ranking.Rank(0, 2.0 * (1 - 8e-10)));
        Assert.Equal(5, ranking.Rank(0, 2.0 * (1 - 2e-8)));
        Assert.Equal(6, ranking.Rank(0, 1.0));
        // New rows: above everything → 1; between ranks → 1 + tokens before; just below a tie group → its rank.
        Assert.Equal(1, ranking.Rank(0, 4.0));
        Assert.Equal(2, ranking.Rank(0, 2.5));
        Assert.Equal(2, ranking.Rank(0, 2.0 * (1 - 9e-10)));
        Assert.Equal(7, ranking.Rank(0, 0.5));
        // More unique traits than any fitted token ranks first whatever its score.
        Assert.Equal(1, ranking.Rank(1, 0.1));
    }
}
