using Microsoft.ML.DiffNft.Collections.Nouns;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>The layered generator: weights (χ² fit), uniqueness, exact counts, rules, capacity and errors.</summary>
public class NounsCollectionGeneratorTests(ITestOutputHelper output)
{
    private static readonly NounsSubset s_small = NounsSubset.Parse("bodies=8,accessories=10,heads=12,glasses=8");

    private static int[] Counts(NounsGeneratedCollection c, NounsLayer layer, int size)
    {
        var counts = new int[size];
        foreach (var seed in c.Seeds) counts[seed[layer]]++;
        return counts;
    }

    [Fact]
    public void SameSeedGivesTheSameCollectionAndAnotherSeedDoesNot()
    {
        NounsCollectionOptions Options(int seed) => new() { Count = 300, Seed = seed, Weights = NounsLayerWeights.Zipf(1), RenderImages = false };
        var a = NounsCollectionGenerator.GenerateDetailed(Options(7));
        var b = NounsCollectionGenerator.GenerateDetailed(Options(7));
        var c = NounsCollectionGenerator.GenerateDetailed(Options(8));
        Assert.Equal(a.Seeds, b.Seeds);
        Assert.NotEqual(a.Seeds, c.Seeds);
    }

    [Fact]
    public void ZipfTraitFrequenciesFitTheRequestedWeights()
    {
        // Uniqueness is switched off here on purpose: with Zipf s = 1 the most likely combinations are drawn again and
        // again (≈ n²/2 · Σp² ≈ 700 duplicate draws for 5,000 tokens on this subset), and rejecting them takes mass from
        // exactly the most frequent parts — a real, intended effect of unique DNA, but not the weights this test checks.
        var parts = NounsSubset.Parse("bodies=20,accessories=40,heads=40,glasses=20");
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = 5000, Seed = 2024, Parts = parts, Weights = NounsLayerWeights.Zipf(1.0), UniqueDna = false, RenderImages = false,
        });
        foreach (var layer in NounsLayers.DrawOrder)
        {
            var p = collection.RequestedProbabilities(layer);
            Assert.Equal(2.0, p[0] / p[1], 12); // weight ∝ 1/k
            var counts = Counts(collection, layer, p.Count);
            var fit = ChiSquare.GoodnessOfFit(counts, p);
            output.WriteLine($"{layer}: χ² = {fit.Statistic:F2}, df = {fit.DegreesOfFreedom}, p = {fit.PValue:F4}");
            Assert.True(fit.PValue > 0.01, $"{layer}: χ² = {fit.Statistic:F2} with {fit.DegreesOfFreedom} df, p = {fit.PValue:G3}");
            if (p.Count > 2)
            {
                // The same counts are far from uniform: the test has power.
                var uniform = ChiSquare.GoodnessOfFit(counts, Enumerable.Repeat(1.0, p.Count).ToArray());
                Assert.True(uniform.PValue < 1e-6, $"{layer}: Zipf counts look uniform (p = {uniform.PValue:G3})");
            }
        }
    }

    [Fact]
    public void UniformOverAllPartsWithUniqueDnaFitsTheUniformDistribution()
    {
        // Over 50 million combinations, 5,000 uniform draws almost never repeat, so uniqueness does not bias this fit.
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 5000, Seed = 99, RenderImages = false });
        foreach (var layer in NounsLayers.DrawOrder)
        {
            int size = NounsArt.Default.PartCount(layer);
            var fit = ChiSquare.GoodnessOfFit(Counts(collection, layer, size), Enumerable.Repeat(1.0, size).ToArray());
            output.WriteLine($"{layer}: χ² = {fit.Statistic:F2}, df = {fit.DegreesOfFreedom}, p = {fit.PValue:F4}");
            Assert.True(fit.PValue > 0.01, $"{layer}: p = {fit.PValue:G3}");
        }
        Assert.Equal(5000, collection.Seeds.Distinct().Count());
    }

    [Fact]
    public void ExplicitWeightsAreRelativeAndZeroMeansNever()
    {
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = 4000, Seed = 5, Parts = NounsSubset.Parse("bodies=4"), UniqueDna = false, RenderImages = false,
            LayerWeights = { [NounsLayer.Body] = NounsLayerWeights.Explicit([5, 0, 3, 0.5]) },
        });
        var counts = Counts(collection, NounsLayer.Body, 4);
        Assert.Equal(0, counts[1]);
        var fit = ChiSquare.GoodnessOfFit([counts[0], counts[2], counts[3]], [5, 3, 0.5]);
        Assert.True(fit.PValue > 0.01, $"p = {fit.PValue:G3}, counts {string.Join(",", counts)}");
    }

    [Fact]
    public void EveryTokenIsUniqueEvenWhenWeightsAreSkewed()
    {
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = 3000, Seed = 3, Parts = s_small, Weights = NounsLayerWeights.Zipf(1.5), RenderImages = false,
        });
        Assert.Equal(2L * 8 * 10 * 12 * 8, collection.CombinationCount);
        Assert.Equal(3000, collection.Seeds.Distinct().Count());
        Assert.All(collection.Seeds, s => Assert.True(s_small.Contains(NounsLayer.Head, s.Head) && s.Head < 12));
    }

    [Fact]
    public void TheWholeCombinationSpaceCanBeGenerated()
    {
        // 32 combinations, all of them asked for, with skewed weights: the last tokens can only be the rare leftovers,
        // which a draw-and-retry loop would struggle to hit; the generator lists the unused ones instead.
        var parts = NounsSubset.Parse("backgrounds=2,bodies=2,accessories=2,heads=2,glasses=2");
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = 32, Seed = 1, Parts = parts, Weights = NounsLayerWeights.Zipf(4), RenderImages = false, MaxAttemptsPerToken = 50,
        });
        Assert.Equal(32, collection.CombinationCount);
        Assert.Equal(32, collection.Seeds.Distinct().Count());
        Assert.All(collection.Seeds, s => Assert.True(NounsLayers.DrawOrder.All(l => s[l] is 0 or 1)));

        // The same with rules: every valid combination exactly once, none breaking a rule.
        var ruled = new NounsCollectionOptions { Seed = 2, Parts = parts, Weights = NounsLayerWeights.Zipf(4), RenderImages = false, MaxAttemptsPerToken = 50 };
        ruled.IncompatiblePairs.Add(new(new(NounsLayer.Body, 0), new(NounsLayer.Glasses, 1)));
        ruled.ForcedPairs.Add(new(new(NounsLayer.Head, 1), new(NounsLayer.Accessory, 1)));
        ruled.Count = (int)NounsCollectionGenerator.CountCombinations(ruled);
        Assert.Equal(32 - 8 - 6, ruled.Count); // minus body 0 & glasses 1 (8), minus head 1 & accessory 0 among the rest (6)
        var seeds = NounsCollectionGenerator.GenerateDetailed(ruled).Seeds;
        Assert.Equal(ruled.Count, seeds.Distinct().Count());
        Assert.DoesNotContain(seeds, s => s.Body == 0 && s.Glasses == 1);
        Assert.DoesNotContain(seeds, s => s.Head == 1 && s.Accessory != 1);
    }

    [Fact]
    public void AskingForMoreUniqueTokensThanCombinationsSaysHowManyExist()
    {
        var parts = NounsSubset.Parse("backgrounds=2,bodies=2,accessories=2,heads=2,glasses=2");
        var options = new NounsCollectionOptions { Count = 25, Parts = parts, RenderImages = false };
        options.IncompatiblePairs.Add(new NounsPartPair(new(NounsLayer.Body, 0), new(NounsLayer.Head, 0)));
        // 32 combinations minus the 8 with body 0 and head 0.
        Assert.Equal(24, NounsCollectionGenerator.CountCombinations(options));
        var ex = Assert.Throws<InvalidOperationException>(() => NounsCollectionGenerator.GenerateDetailed(options));
        Assert.Contains("25 unique Nouns", ex.Message);
        Assert.Contains("only 24 combinations", ex.Message);
        Assert.Contains("2 backgrounds × 2 bodies × 2 accessories × 2 heads × 2 glasses", ex.Message);

        options.Count = 24;
        Assert.Equal(24, NounsCollectionGenerator.GenerateDetailed(options).Seeds.Distinct().Count());
    }

    [Fact]
    public void CombinationCountMatchesBruteForceEnumeration()
    {
        var options = new NounsCollectionOptions { Parts = NounsSubset.Parse("bodies=5,accessories=6,heads=7,glasses=4") };
        options.IncompatiblePairs.Add(new(new(NounsLayer.Body, 0), new(NounsLayer.Head, 0)));
        options.IncompatiblePairs.Add(new(new(NounsLayer.Accessory, 2), new(NounsLayer.Glasses, 3)));
        options.IncompatiblePairs.Add(new(new(NounsLayer.Head, 6), new(NounsLayer.Background, 1)));
        options.ForcedPairs.Add(new(new(NounsLayer.Head, 3), new(NounsLayer.Glasses, 1)));
        options.ForcedPairs.Add(new(new(NounsLayer.Body, 4), new(NounsLayer.Accessory, 2)));
        options.LayerWeights[NounsLayer.Head] = NounsLayerWeights.Explicit([1, 1, 1, 1, 0, 1, 1]); // head 4 never
        long brute = 0;
        for (int bg = 0; bg < 2; bg++)
        for (int b = 0; b < 5; b++)
        for (int a = 0; a < 6; a++)
        for (int h = 0; h < 7; h++)
        for (int g = 0; g < 4; g++)
        {
            if (h == 4) continue;
            if ((b == 0 && h == 0) || (a == 2 && g == 3) || (h == 6 && bg == 1)) continue;
            if ((h == 3 && g != 1) || (b == 4 && a != 2)) continue;
            brute++;
        }
        Assert.Equal(brute, NounsCollectionGenerator.CountCombinations(options));

        var all = new NounsCollectionOptions();
        all.IncompatiblePairs.Add(new(NounsPartRef.Find(NounsArt.Default, "head-goat"), NounsPartRef.Find(NounsArt.Default, "glasses-square-red")));
        Assert.Equal(50_124_360L - 2 * 30 * 143, NounsCollectionGenerator.CountCombinations(all));
    }

    [Fact]
    public void IncompatibleAndForcedPairsAreHonoured()
    {
        // All bodies and accessories: the forced pairs pin two layers, and a small subset would leave too few distinct
        // combinations with the condition part for unique DNA not to thin it out.
        var options = new NounsCollectionOptions { Count = 2000, Seed = 17, Parts = NounsSubset.Parse("heads=12,glasses=8"), RenderImages = false };
        options.IncompatiblePairs.Add(new(new(NounsLayer.Body, 0), new(NounsLayer.Head, 0)));
        options.IncompatiblePairs.Add(new(new(NounsLayer.Accessory, 1), new(NounsLayer.Glasses, 2)));
        options.ForcedPairs.Add(new(new(NounsLayer.Head, 3), new(NounsLayer.Glasses, 5)));
        options.ForcedPairs.Add(new(new(NounsLayer.Body, 2), new(NounsLayer.Accessory, 4)));
        var seeds = NounsCollectionGenerator.GenerateDetailed(options).Seeds;
        Assert.DoesNotContain(seeds, s => s.Body == 0 && s.Head == 0);
        Assert.DoesNotContain(seeds, s => s.Accessory == 1 && s.Glasses == 2);
        Assert.All(seeds.Where(s => s.Head == 3), s => Assert.Equal(5, s.Glasses));
        Assert.All(seeds.Where(s => s.Body == 2), s => Assert.Equal(4, s.Accessory));
        // Forcing keeps the condition's own frequency (≈ 2000/12 = 167 heads, 2000/30 = 67 bodies) rather than suppressing it.
        Assert.InRange(seeds.Count(s => s.Head == 3), 120, 220);
        Assert.InRange(seeds.Count(s => s.Body == 2), 40, 100);
        Assert.Equal(2000, seeds.Distinct().Count());
    }

    [Fact]
    public void ExactCountsAreMetExactlyTogetherWithRulesAndUniqueness()
    {
        int[] heads = [300, 200, 150, 100, 80, 60, 40, 30, 20, 10, 5, 5];
        int[] glasses = [500, 200, 100, 80, 60, 30, 20, 10];
        var options = new NounsCollectionOptions
        {
            Count = 1000, Seed = 4, Parts = s_small, Weights = NounsLayerWeights.Zipf(1), RenderImages = false,
            LayerWeights =
            {
                [NounsLayer.Head] = NounsLayerWeights.ExactCounts(heads),
                [NounsLayer.Glasses] = NounsLayerWeights.ExactCounts(glasses),
            },
        };
        options.IncompatiblePairs.Add(new(new(NounsLayer.Head, 0), new(NounsLayer.Glasses, 0)));
        options.ForcedPairs.Add(new(new(NounsLayer.Body, 1), new(NounsLayer.Accessory, 0)));
        var collection = NounsCollectionGenerator.GenerateDetailed(options);
        Assert.Equal(heads, Counts(collection, NounsLayer.Head, 12));
        Assert.Equal(glasses, Counts(collection, NounsLayer.Glasses, 8));
        Assert.DoesNotContain(collection.Seeds, s => s.Head == 0 && s.Glasses == 0);
        Assert.All(collection.Seeds.Where(s => s.Body == 1), s => Assert.Equal(0, s.Accessory));
        Assert.Equal(1000, collection.Seeds.Distinct().Count());
        // The dealt order is shuffled, not sorted by part.
        Assert.NotEqual(collection.Seeds.Select(s => s.Head).Order(), collection.Seeds.Select(s => s.Head));
    }

    [Fact]
    public void ExactCountsThatCannotBeUniqueAreRejectedUpFront()
    {
        // Head 0 asked 20 times, but only 2 × 1 × 1 × 8 = 16 distinct combinations contain it.
        var options = new NounsCollectionOptions
        {
            Count = 40, Parts = NounsSubset.Parse("bodies=1,accessories=1,heads=4,glasses=8"), RenderImages = false,
            LayerWeights = { [NounsLayer.Head] = NounsLayerWeights.ExactCounts([20, 10, 5, 5]) },
        };
        var ex = Assert.Throws<InvalidOperationException>(() => NounsCollectionGenerator.GenerateDetailed(options));
        Assert.Contains("20 tokens with head 'head-aardvark'", ex.Message);
        Assert.Contains("only 16 unique combinations", ex.Message);
    }

    [Fact]
    public void TokensCarryIdsTraitsCaptionsAndRenderedImages()
    {
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 20, Seed = 11, Parts = s_small });
        for (int i = 0; i < 20; i++)
        {
            var token = collection.Tokens[i];
            var seed = collection.Seeds[i];
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), token.TokenId);
            Assert.Equal($"Noun {i}", token.Name);
            Assert.Equal($"images/{i}.png", token.ImageUri);
            Assert.Equal(new[] { "Background", "Body", "Accessory", "Head", "Glasses" }, token.Attributes.Select(a => a.TraitType));
            var art = NounsArt.Default;
            Assert.Equal(
                $"a noun, body {art.Part(NounsLayer.Body, seed.Body).TraitValue}, accessory {art.Part(NounsLayer.Accessory, seed.Accessory).TraitValue}, " +
                $"head {art.Part(NounsLayer.Head, seed.Head).TraitValue}, glasses {art.Part(NounsLayer.Glasses, seed.Glasses).TraitValue}",
                token.Caption);
            Assert.Equal(art.Part(NounsLayer.Background, seed.Background).TraitValue, token.Find("Background")!.Value);
            Assert.True(NounsRenderer.Render(seed).PixelEquals(token.Image!));
        }
        Assert.Equal(new[] { "Background", "Body", "Accessory", "Head", "Glasses" }, collection.Collection.TraitTypes);
    }

    [Fact]
    public void InvalidOptionsGetMessagesNamingTheProblem()
    {
        static string Fails<T>(NounsCollectionOptions o) where T : Exception => Assert.Throws<T>(() => NounsCollectionGenerator.GenerateDetailed(o)).Message;

        Assert.Contains("Head weights: 3 given, but the chosen subset has 12 heads",
            Fails<ArgumentException>(new() { Parts = s_small, LayerWeights = { [NounsLayer.Head] = NounsLayerWeights.Explicit([1, 2, 3]) } }));
        Assert.Contains("Glasses exact counts sum to 10, but the collection has 100 tokens",
            Fails<ArgumentException>(new() { Count = 100, Parts = NounsSubset.Parse("glasses=2"), LayerWeights = { [NounsLayer.Glasses] = NounsLayerWeights.ExactCounts([5, 5]) } }));

        var outside = new NounsCollectionOptions { Parts = s_small };
        outside.IncompatiblePairs.Add(new(new(NounsLayer.Head, 40), new(NounsLayer.Body, 0)));
        Assert.Contains("outside the chosen subset of 12 heads", Fails<ArgumentException>(outside));

        var sameLayer = new NounsCollectionOptions();
        sameLayer.ForcedPairs.Add(new(new(NounsLayer.Head, 1), new(NounsLayer.Head, 2)));
        Assert.Contains("same layer", Fails<ArgumentException>(sameLayer));

        var conflict = new NounsCollectionOptions();
        conflict.ForcedPairs.Add(new(new(NounsLayer.Head, 1), new(NounsLayer.Glasses, 2)));
        conflict.ForcedPairs.Add(new(new(NounsLayer.Head, 1), new(NounsLayer.Glasses, 3)));
        Assert.Contains("forces both", Fails<ArgumentException>(conflict));

        Assert.Throws<ArgumentOutOfRangeException>(() => NounsCollectionGenerator.GenerateDetailed(new() { Count = 0 }));
        Assert.Contains("only 23", Assert.Throws<ArgumentException>(() => NounsSubset.Parse("glasses=24").Resolve(NounsArt.Default)).Message);
    }

    [Theory]
    [InlineData("zipf", "zipf:EXPONENT")]
    [InlineData("zipf:-1", "must be a number ≥ 0")]
    [InlineData("gauss", "expected 'uniform' or 'zipf:EXPONENT'")]
    public void BadWeightSpecificationsAreExplained(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => NounsLayerWeights.Parse(text)).Message);
    }

    [Theory]
    [InlineData("heads", "layer=count")]
    [InlineData("hats=3", "unknown layer 'hats'")]
    [InlineData("heads=0", "positive integer")]
    [InlineData("heads=2,head=3", "given twice")]
    public void BadPartSpecificationsAreExplained(string text, string expected)
    {
        Assert.Contains(expected, Assert.Throws<FormatException>(() => NounsSubset.Parse(text)).Message);
    }

    [Fact]
    public void PartSpecificationsRoundTrip()
    {
        var subset = NounsSubset.Parse("bodies=8, accessories=10,heads=12,glasses=8");
        Assert.Equal("bodies=8,accessories=10,heads=12,glasses=8", subset.ToString());
        Assert.Equal(new[] { 2, 8, 10, 12, 8 }, subset.Resolve(NounsArt.Default));
        Assert.Equal("all", NounsSubset.Parse("").ToString());
        Assert.Equal(1.0, NounsLayerWeights.Parse("ZIPF:1.0").Exponent);
    }
}
