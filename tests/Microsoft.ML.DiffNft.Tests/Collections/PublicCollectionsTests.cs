using System.Globalization;
using Microsoft.ML.DiffNft.Collections;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.ML.DiffNft.Tests.Collections.CollectionTestData;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>mfers (CC0, shipped in tests/data) and Pudgy Penguins (read from shared/data when present).</summary>
public class PublicCollectionsTests(ITestOutputHelper output)
{
    private static readonly int[] MfersOneOfOnes =
        [140, 781, 1825, 2293, 2506, 3942, 4482, 5476, 5659, 5688, 6551, 7456, 7503, 8434, 8618, 9035, 9205, 9292, 9547, 9860, 9967];

    [Fact]
    public void MfersTraitMapsLoadWithTheTwentyOneOneOfOnes()
    {
        string path = Path.Combine(DataDir("mfers"), "mfers-traits.json");
        Assert.Equal(NftCollectionFormat.JsonArray, NftCollectionLoader.DetectFormat(path));
        var c = NftCollectionLoader.Load(path);
        Assert.Equal(10021, c.Count);
        Assert.Equal(Enumerable.Range(0, 10021).Select(i => i.ToString(CultureInfo.InvariantCulture)), c.Tokens.Select(t => t.TokenId));
        var withOneOfOne = c.Tokens.Where(t => t.Find("1/1") is not null).Select(t => int.Parse(t.TokenId, CultureInfo.InvariantCulture));
        Assert.Equal(MfersOneOfOnes, withOneOfOne);
        Assert.All(MfersOneOfOnes, id => Assert.Single(c.Tokens[id].Attributes)); // a 1/1 has no other trait
        Assert.Equal("pop mfer", c.Tokens[140].Find("1/1")!.Value);

        // mfer 0 as in the package's own test (README): the trait map keeps source order and kinds.
        var m0 = c.Tokens[0];
        Assert.Equal(
            [("background", "red"), ("type", "plain mfer"), ("eyes", "regular eyes"), ("hat under headphones", "knit buffalo"),
             ("headphones", "black headphones"), ("mouth", "smile"), ("smoke", "cig black")],
            m0.Attributes.Select(a => (a.TraitType, a.Value)));
        Assert.All(c.Tokens.SelectMany(t => t.Attributes), a => Assert.Equal(NftValueKind.String, a.Kind));
        Assert.Null(m0.Extra); // "id" was the token id, so nothing else is left
        Assert.Equal("mfers-traits", c.Name);
    }

    [Fact]
    public void PudgyPenguinsCountsMatchTheirTraitCountTable()
    {
        string? dir = FindSharedData("pudgypenguins");
        if (dir is null || !File.Exists(Path.Combine(dir, "pudgypenguins_traits.json")))
        {
            output.WriteLine("Skipped: shared/data/pudgypenguins is not present (the data set is not shipped in the repository).");
            return;
        }
        var c = NftCollectionLoader.Load(Path.Combine(dir, "pudgypenguins_traits.json"));
        Assert.Equal(8887, c.Count);
        // Ids come from names such as "Pudgy Penguin #1"; the file lists 1..8887 in order.
        Assert.Equal(Enumerable.Range(1, 8887).Select(i => i.ToString(CultureInfo.InvariantCulture)), c.Tokens.Select(t => t.TokenId));
        Assert.Equal(["Background", "Skin", "Body", "Face", "Head"], c.TraitTypes);

        var expected = File.ReadAllLines(Path.Combine(dir, "pudgypenguins_trait_counts.csv")).Skip(1)
            .Select(l => l.Split(',')).ToDictionary(f => (f[0], f[1]), f => int.Parse(f[2], CultureInfo.InvariantCulture));
        var actual = c.Tokens.SelectMany(t => t.Attributes).GroupBy(a => (a.TraitType, a.Value)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (key, count) in expected) Assert.Equal(count, actual[key]);
        Assert.Equal([13, 15, 64, 27, 54], c.TraitTypes.Select(t => actual.Keys.Count(k => k.Item1 == t)));
    }
}
