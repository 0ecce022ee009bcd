using System.Globalization;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Rarity.RarityTestHelpers;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// All 7,025 CrypToadz tokens against the reference computed with open-rarity 0.7.5 (tests/data/cryptoadz): OpenRarity
/// scores (1e-12 relative), ranks and unique counts exactly, and the rarity.tools sum, statistical and average columns.
/// </summary>
public class CryptoadzRarityTests
{
    private const double ReferenceEntropy = 26.670646755704038;

    private static readonly Lazy<TextTable> s_attributes = new(ReadAttributes);

    /// <summary>The CrypToadz attributes as a data view annotated like a loaded collection; `# Traits` is numeric.</summary>
    internal static TextTable LoadAttributes() => s_attributes.Value;

    private static TextTable ReadAttributes()
    {
        var tokens = new List<Dictionary<string, string?>>();
        var ids = new List<string>();
        var numeric = new HashSet<string>();
        var byId = new Dictionary<string, Dictionary<string, string?>>();
        foreach (var row in ReadSimpleCsv(DataPath("cryptoadz", "attributes.csv")))
        {
            string id = row["token_id"];
            if (!byId.TryGetValue(id, out var traits))
            {
                byId[id] = traits = new Dictionary<string, string?>();
                tokens.Add(traits);
                ids.Add(id);
            }
            traits[row["trait_type"]] = row["value"];
            if (row["value_type"] != "str") numeric.Add(row["trait_type"]);
        }
        return TextTable.FromTokens(tokens.Cast<IReadOnlyDictionary<string, string?>>().ToList(), annotate: true, tokenIds: ids, numericTraits: numeric);
    }

    private static readonly Lazy<Dictionary<string, Dictionary<string, string>>> s_reference =
        new(() => ReadSimpleCsv(DataPath("cryptoadz", "rarity-reference-openrarity-0.7.5.csv")).ToDictionary(r => r["token_id"]));

    private static Dictionary<string, Dictionary<string, string>> Reference() => s_reference.Value;

    [Fact]
    public void OpenRarityScoresRanksAndUniqueCountsMatchReference()
    {
        var view = LoadAttributes();
        var reference = Reference();
        var ml = new MLContext(seed: 1);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);

        Assert.Equal(7025, rarity.Table.TokenCount);
        Assert.DoesNotContain(rarity.Table.Traits, t => t.TraitType == "# Traits");   // numeric: left out, as in the reference
        Assert.Equal(11, rarity.Table.Traits.Count);
        AssertRelative(ReferenceEntropy, rarity.Table.Entropy, 1e-12, "entropy");

        var rows = ReadScores(rarity.Transform(view));
        Assert.Equal(7025, rows.Count);
        var traitsById = TokenTraits(view);
        foreach (var row in rows)
        {
            var r = reference[row.TokenId];
            AssertRelative(double.Parse(r["or_score"], CultureInfo.InvariantCulture), row.Score, 1e-12, $"token {row.TokenId} score");
            Assert.True(int.Parse(r["or_rank"], CultureInfo.InvariantCulture) == row.Rank, $"token {row.TokenId}: rank {row.Rank}, reference {r["or_rank"]}");
            Assert.Equal(int.Parse(r["or_unique_attribute_count"], CultureInfo.InvariantCulture), rarity.Table.Score(traitsById[row.TokenId]).UniqueTraitCount);
        }
        Assert.InRange(rows.Average(r => r.Score), 1 - 1e-9, 1 + 1e-9);

        // IsRare: the top ⌈5 % · 7025⌉ = 352 by score, plus any token tied with the 352nd.
        var byScore = rows.OrderByDescending(r => r.Score).ToList();
        double threshold = byScore[351].Score;
        Assert.Equal(threshold, rarity.Table.RareThreshold);
        Assert.All(rows, r => Assert.Equal(r.Score >= threshold * (1 - 1e-9), r.IsRare));
        Assert.InRange(rows.Count(r => r.IsRare), 352, 360);
    }

    [Theory]
    [InlineData(RarityMethod.SumOfInverseFrequency, "rt_sum_score")]
    [InlineData(RarityMethod.Statistical, "log10_stat_prob")]
    [InlineData(RarityMethod.Average, "avg_trait_prob")]
    public void OtherMethodsMatchReferenceColumns(RarityMethod method, string column)
    {
        var view = LoadAttributes();
        var reference = Reference();
        var ml = new MLContext(seed: 1);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { Method = method, UseDoublePrecision = true }).Fit(view);
        var rows = ReadScores(rarity.Transform(view));
        Assert.Equal(7025, rows.Count);
        foreach (var row in rows)
        {
            var r = reference[row.TokenId];
            AssertRelative(double.Parse(r[column], CultureInfo.InvariantCulture), row.Score, 1e-12, $"{method} token {row.TokenId}");
            Assert.True(int.Parse(r[column + "_rank"], CultureInfo.InvariantCulture) == row.Rank,
                $"{method} token {row.TokenId}: rank {row.Rank}, reference {r[column + "_rank"]}");
        }
    }

    [Fact]
    public void FloatScoresAreTheDoubleScoresRounded()
    {
        var view = LoadAttributes();
        var ml = new MLContext(seed: 1);
        var exact = ReadScores(ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view).Transform(view));
        var single = ReadScores(ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view).Transform(view));
        Assert.Equal(exact.Select(r => (double)(float)r.Score), single.Select(r => r.Score));
        Assert.Equal(exact.Select(r => (r.Rank, r.IsRare)), single.Select(r => (r.Rank, r.IsRare)));
    }

    private static Dictionary<string, IReadOnlyDictionary<string, string?>> TokenTraits(TextTable view)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, string?>>();
        var traitColumns = view.Schema.Skip(1).ToList();
        using var cursor = view.GetRowCursor(view.Schema);
        var id = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[0]);
        var getters = traitColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToList();
        ReadOnlyMemory<char> v = default;
        while (cursor.MoveNext())
        {
            id(ref v);
            string tokenId = v.ToString();
            var traits = new Dictionary<string, string?>();
            for (int j = 0; j < getters.Count; j++)
            {
                string name = traitColumns[j].Name["T_".Length..];
                if (name == "# Traits") continue;
                getters[j](ref v);
                traits[name] = v.ToString();
            }
            result[tokenId] = traits;
        }
        return result;
    }
}
