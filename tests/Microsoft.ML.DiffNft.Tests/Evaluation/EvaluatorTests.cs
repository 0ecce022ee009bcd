using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>The evaluator on small sets (N = 12), with one shared ResNet-18 and reference cache to keep the tests fast.</summary>
public sealed class EvaluatorTests : IClassFixture<EvaluatorTests.Fixture>
{
    private const int N = 12;
    private readonly Fixture _f;

    public EvaluatorTests(Fixture fixture) => _f = fixture;

    /// <summary>A Zipf-weighted Nouns reference of 120 tokens and one ResNet-18 for every test of the class.</summary>
    public sealed class Fixture : IDisposable
    {
        internal NounsGeneratedCollection Reference { get; } = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = 120,
            Seed = 3,
            Weights = NounsLayerWeights.Parse("zipf:1.2"),
            Parts = NounsSubset.Parse("bodies=6,accessories=8,heads=10,glasses=6"),
        });

        internal ResNet18FeatureExtractor ResNet { get; } = new();

        /// <summary>A reference-feature cache shared by the tests, so each reference selection is featurised once.</summary>
        public string CacheDir { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "diffnft-eval-cache-" + Guid.NewGuid().ToString("N")[..10])).FullName;

        public void Dispose()
        {
            ResNet.Dispose();
            try { Directory.Delete(CacheDir, recursive: true); } catch (IOException) { }
        }
    }

    private NftGenerationEvaluatorOptions Options(string? cache = null) => new()
    {
        SampleSize = N,
        KidSubsets = 10,
        ResNet18Extractor = _f.ResNet,
        ReferenceCacheDirectory = cache ?? _f.CacheDir,
    };

    [Fact]
    public void ReferenceTokensDecodeExactlyAndScoreAsTheRarityTableSays()
    {
        var mlContext = new MLContext(seed: 1);
        var tokens = _f.Reference.Tokens.Take(N).ToList();
        var metrics = mlContext.NftGeneration.Evaluate(tokens.Select(t => t.Image!).ToList(), _f.Reference.Collection, Options());

        Assert.Equal(N, metrics.Count);
        Assert.Equal(1.0, metrics.DecodableRate);
        Assert.Equal(0.0, metrics.Novelty);            // every generated combination is a reference token's
        // Unique DNA, but a part hidden under another can make two seeds render the same image: those are duplicates.
        Assert.Equal(Repeats(tokens.Select(t => t.Image!).ToList()) / (double)N, metrics.DuplicateRate);
        Assert.Equal("nouns-parts", metrics.TraitDecoder);

        // Independent route: score the same tokens' metadata with the rarity estimator fitted on the whole reference.
        var view = _f.Reference.Collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
        var table = mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view).Table;
        // A layer the image does not show scores as the collection's most common value of its type (the least rare
        // reading under OpenRarity, whose score only grows as a value's frequency falls).
        var decoded = new NounsImageTraitDecoder().Decode(tokens.Select(t => t.Image!).ToList());
        var scores = tokens.Select((t, i) => table.Score(t.Attributes.ToDictionary(a => a.TraitType, a =>
        {
            if (!decoded[i].UnobservableTraitTypes.Contains(a.TraitType)) return (string?)a.Value;
            var trait = table.Traits.Single(x => x.Name == a.TraitType.Trim().ToLowerInvariant());
            return trait.Values[Enumerable.Range(0, trait.Values.Count).MaxBy(k => trait.Counts[k])];
        }))).ToList();
        Assert.Equal(scores.Average(s => s.Score), metrics.RarityScore!.Value, 12);
        Assert.Equal(scores.Count(s => s.IsRare) / (double)N, metrics.RareRate!.Value, 12);
        Assert.Equal(table.RareThreshold, metrics.RareThreshold!.Value, 12);

        Assert.True(metrics.FidResNet18 > 0 && double.IsFinite(metrics.KidResNet18) && metrics.KidStandardDeviation >= 0);
        Assert.True(metrics.Diversity > 0);
    }

    [Fact]
    public void AHiddenLayerNeverMakesAnImageRare()
    {
        var mlContext = new MLContext(seed: 1);
        var view = _f.Reference.Collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
        var table = mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view).Table;
        // The rarest reference token: rare when every layer shows, as common as the collection's commonest parts when
        // none does, and with one layer hidden scored as if that layer had its type's most common value.
        var rarest = _f.Reference.Tokens.MaxBy(t => table.Score(t.Attributes.ToDictionary(a => a.TraitType, a => (string?)a.Value)).Score)!;
        var images = _f.Reference.Tokens.Take(N).Select(t => t.Image!).ToList();
        NftGenerationMetrics Evaluate(params string[] hidden)
        {
            var options = Options();
            options.TraitDecoder = new FixedDecoder(rarest.Attributes, hidden);
            return mlContext.NftGeneration.Evaluate(images, _f.Reference.Collection, options);
        }
        string MostCommon(string type)
        {
            var trait = table.Traits.Single(x => x.Name == type.Trim().ToLowerInvariant());
            return trait.Values[Enumerable.Range(0, trait.Values.Count).MaxBy(k => trait.Counts[k])];
        }

        var visible = Evaluate();
        Assert.Equal(1.0, visible.RareRate);
        Assert.Equal(table.Score(rarest.Attributes.ToDictionary(a => a.TraitType, a => (string?)a.Value)).Score, visible.RarityScore!.Value, 12);

        var allHidden = Evaluate(rarest.Attributes.Select(a => a.TraitType).ToArray());
        Assert.Equal(0.0, allHidden.RareRate);
        Assert.Equal(table.Score(rarest.Attributes.ToDictionary(a => a.TraitType, a => (string?)MostCommon(a.TraitType))).Score, allHidden.RarityScore!.Value, 12);

        // The layer whose value is rarest in the collection, hidden alone.
        var rareType = rarest.Attributes.MinBy(a => table.Traits.Single(x => x.Name == a.TraitType.Trim().ToLowerInvariant()).GetCount(a.Value))!.TraitType;
        var oneHidden = Evaluate(rareType);
        var expected = table.Score(rarest.Attributes.ToDictionary(a => a.TraitType, a => (string?)(a.TraitType == rareType ? MostCommon(rareType) : a.Value)));
        Assert.Equal(expected.Score, oneHidden.RarityScore!.Value, 12);
        Assert.True(oneHidden.RarityScore < visible.RarityScore);
    }

    [Fact]
    public void ImagesDecodeOnlyToPartsTheReferenceHas()
    {
        // The reference draws from the first 6 bodies; these images wear body 20, which it does not have.
        var seeds = _f.Reference.Seeds.Take(N).Select(s => s with { Body = 20 }).ToList();
        var images = seeds.Select(s => NounsRenderer.Render(s)).ToList();
        var anyPart = Options();
        anyPart.TraitDecoder = new NounsImageTraitDecoder();
        var mlContext = new MLContext(seed: 1);
        var loose = mlContext.NftGeneration.Evaluate(images, _f.Reference.Collection, anyPart);
        var judged = mlContext.NftGeneration.Evaluate(images, _f.Reference.Collection, Options());
        // Matched against every part, the foreign body is a value the collection never showed, rarer than any of its own:
        // most of the images become rare (not those whose body the accessory hides).
        Assert.Equal(1.0, loose.DecodableRate);
        Assert.True(loose.RareRate >= 0.5, $"rare rate {loose.RareRate} with every part");
        // The evaluator's own decoder keeps to the reference's parts: the images are not clean members of the collection.
        Assert.True(judged.RareRate < loose.RareRate, $"rare rate {judged.RareRate} with the reference's parts, {loose.RareRate} with every part");
        Assert.True(judged.DecodableRate < 1.0 || judged.RarityScore < loose.RarityScore);
    }

    /// <summary>A decoder that reads the same traits from every image, with some layers reported hidden.</summary>
    private sealed class FixedDecoder(IReadOnlyList<NftAttribute> attributes, string[] hidden) : IImageTraitDecoder
    {
        public string Name => "fixed";

        public IReadOnlyList<DecodedImageTraits> Decode(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default) =>
            images.Select(_ => new DecodedImageTraits(true, attributes) { UnobservableTraitTypes = hidden }).ToList();
    }

    [Fact]
    public void NoiseIsNotDecodableAndNeverRare()
    {
        var rng = new Random(4);
        var noise = Enumerable.Range(0, N).Select(_ =>
        {
            var img = new RgbaImage(32, 32);
            rng.NextBytes(img.Pixels);
            for (int p = 3; p < img.Pixels.Length; p += 4) img.Pixels[p] = 255;
            return img;
        }).ToList();
        var metrics = new MLContext(seed: 1).NftGeneration.Evaluate(noise, _f.Reference.Collection, Options());
        Assert.Equal(0.0, metrics.DecodableRate);
        Assert.Equal(0.0, metrics.RareRate);
        Assert.Null(metrics.RarityScore);
        Assert.Null(metrics.Novelty);
        // Noise is far from Nouns: FID well above the reference-sample case.
        var same = new MLContext(seed: 1).NftGeneration.Evaluate(_f.Reference.Tokens.Skip(N).Take(N).Select(t => t.Image!).ToList(), _f.Reference.Collection, Options());
        Assert.True(metrics.FidResNet18 > 3 * same.FidResNet18, $"noise FID {metrics.FidResNet18:F1}, reference-sample FID {same.FidResNet18:F1}");
    }

    [Fact]
    public void RepeatsAndNearCopiesCountAsDuplicates()
    {
        var unique = _f.Reference.Tokens.Take(N - 6).Select(t => t.Image!).ToList();
        var images = new List<RgbaImage>(unique);
        var rng = new Random(2);
        for (int k = 0; k < 3; k++) images.Add(unique[k].Clone());                              // exact repeats
        for (int k = 3; k < 6; k++) images.Add(NounsTestData.AddNoise(unique[k], 1.0, rng));     // near-identical pixels
        var metrics = new MLContext(seed: 1).NftGeneration.Evaluate(images, _f.Reference.Collection, Options());
        Assert.Equal((6 + Repeats(unique)) / (double)N, metrics.DuplicateRate, 12);
    }

    [Fact]
    public void PlainImageReferenceGivesDistributionMetricsOnlyAndTheJsonHasTheDocumentedKeys()
    {
        var plain = new NftCollection(_f.Reference.Tokens.Select(t => new NftToken(t.TokenId, []) { Image = t.Image }).ToList(), "plain");
        var generated = _f.Reference.Tokens.Skip(60).Take(N).Select(t => t.Image!).ToList();
        var metrics = new MLContext(seed: 1).NftGeneration.Evaluate(generated, plain, Options());
        Assert.Null(metrics.RarityScore);
        Assert.Null(metrics.RareRate);
        Assert.Null(metrics.DecodableRate);
        Assert.Null(metrics.Novelty);
        using var json = System.Text.Json.JsonDocument.Parse(metrics.ToJson());
        Assert.Equal(
            ["n", "fid_resnet18", "kid_resnet18", "kid_std", "rarity_score", "rare_rate", "decodable_rate", "novelty", "duplicate_rate", "diversity"],
            json.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("rarity_score").ValueKind);
        Assert.Equal(metrics.FidResNet18, json.RootElement.GetProperty("fid_resnet18").GetDouble());
    }

    [Fact]
    public void RewardAndAdditionalExtractorsAddTheirKeys()
    {
        var generated = _f.Reference.Tokens.Skip(30).Take(N).Select(t => t.Image!).ToList();
        var options = Options();
        options.Reward = new BrightnessReward();
        var histogram = new ColourHistogramExtractor();
        options.AdditionalFeatureExtractors.Add(histogram);
        var metrics = new MLContext(seed: 1).NftGeneration.Evaluate(generated, _f.Reference.Collection, options);

        double expected = generated.Average(img => Enumerable.Range(0, img.Width * img.Height)
            .Average(p => (img.Pixels[4 * p] + img.Pixels[4 * p + 1] + img.Pixels[4 * p + 2]) / (3 * 127.5) - 1));
        Assert.Equal(expected, metrics.RewardMean!.Value, 5);

        var reference = NftGenerationEvaluator.Sample(_f.Reference.Collection.Count, N, options.EffectiveSeed + 1)
            .Select(i => _f.Reference.Tokens[i].Image!).ToList();
        double fid = FrechetDistance.Compute(histogram.Extract(generated), histogram.Extract(reference));
        Assert.Equal(fid, metrics.AdditionalMetrics["fid_histogram"], 9);
        Assert.True(metrics.AdditionalMetrics.ContainsKey("kid_histogram") && metrics.AdditionalMetrics.ContainsKey("kid_std_histogram"));
        var keys = System.Text.Json.JsonDocument.Parse(metrics.ToJson()).RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal("reward_mean", keys[10]);
        Assert.Contains("fid_histogram", keys);
    }

    [Fact]
    public void ReferenceFeaturesAreCachedByContentAndABrokenEntryIsRecomputed()
    {
        using var dir = new NounsTestData.TempDir();
        var generated = _f.Reference.Tokens.Skip(40).Take(N).Select(t => t.Image!).ToList();
        var first = new MLContext(seed: 1).NftGeneration.Evaluate(generated, _f.Reference.Collection, Options(dir.Path));
        var files = Directory.GetFiles(dir.Path, "*.features.zip");
        Assert.Single(files);
        var written = File.GetLastWriteTimeUtc(files[0]);

        var second = new MLContext(seed: 1).NftGeneration.Evaluate(generated, _f.Reference.Collection, Options(dir.Path));
        Assert.Equal(first, second with { AdditionalMetrics = first.AdditionalMetrics, RarityScores = first.RarityScores, ReferenceRarityScores = first.ReferenceRarityScores });
        Assert.Equal(first.RarityScores, second.RarityScores);
        Assert.Equal(first.ReferenceRarityScores, second.ReferenceRarityScores);
        Assert.Equal(written, File.GetLastWriteTimeUtc(files[0])); // read, not rewritten

        File.WriteAllBytes(files[0], [1, 2, 3]);
        var warnings = new List<string>();
        var mlContext = new MLContext(seed: 1);
        mlContext.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.RawMessage); };
        var third = mlContext.NftGeneration.Evaluate(generated, _f.Reference.Collection, Options(dir.Path));
        Assert.Equal(first.FidResNet18, third.FidResNet18, 9);
        Assert.Contains(warnings, w => w.Contains("unreadable cache entry", StringComparison.Ordinal));

        // Another reference selection (another seed) is another key: a second file.
        var options = Options(dir.Path);
        options.Seed = 5;
        new MLContext(seed: 1).NftGeneration.Evaluate(generated, _f.Reference.Collection, options);
        Assert.Equal(2, Directory.GetFiles(dir.Path, "*.features.zip").Length);
    }

    [Fact]
    public void AnImageColumnOfAnIDataViewEvaluatesLikeTheImageList()
    {
        var tokens = new NftCollection(_f.Reference.Tokens.Skip(70).Take(N).ToList(), "generated");
        var view = tokens.ToDataView(new NftCollectionDataViewOptions { IncludeCaptions = false });
        var mlContext = new MLContext(seed: 1);
        var fromView = mlContext.NftGeneration.Evaluate(view, _f.Reference.Collection, "Image", Options());
        var fromList = mlContext.NftGeneration.Evaluate(tokens.Tokens.Select(t => t.Image!).ToList(), _f.Reference.Collection, Options());
        Assert.Equal(fromList.ToJson(), fromView.ToJson());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.NftGeneration.Evaluate(view, _f.Reference.Collection, "Picture", Options()));
        Assert.Contains("Could not find input column 'Picture'", ex.Message);
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.NftGeneration.Evaluate(view, _f.Reference.Collection, "TokenId", Options()));
        Assert.Contains("expected Image", ex.Message);
    }

    [Fact]
    public void TooFewImagesNameTheCountsAndBadOptionsAreRejected()
    {
        var few = _f.Reference.Tokens.Take(5).Select(t => t.Image!).ToList();
        var ex = Assert.Throws<ArgumentException>(() => new MLContext().NftGeneration.Evaluate(few, _f.Reference.Collection, Options()));
        Assert.Contains("N = 12", ex.Message);
        Assert.Contains("only 5 generated images", ex.Message);
        var bad = Options();
        bad.RareQuantile = 0;
        Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().NftGeneration.Evaluate(few, _f.Reference.Collection, bad));
    }

    /// <summary>By brute force: how many images have an earlier one whose every RGB channel is within 16.</summary>
    private static int Repeats(IReadOnlyList<RgbaImage> images)
    {
        static bool Close(RgbaImage a, RgbaImage b)
        {
            if (a.Width != b.Width || a.Height != b.Height) return false;
            for (int p = 0; p < a.Pixels.Length; p++)
                if (p % 4 != 3 && Math.Abs(a.Pixels[p] - b.Pixels[p]) > 16) return false;
            return true;
        }
        return Enumerable.Range(0, images.Count).Count(i => Enumerable.Range(0, i).Any(j => Close(images[j], images[i])));
    }

    /// <summary>A reward with a known answer: the mean pixel value in [−1, 1].</summary>
    private sealed class BrightnessReward : IImageReward
    {
        public string Name => "brightness";

        public bool IsDifferentiable => true;

        public Tensor Score(Tensor images) => images.mean([1, 2, 3]);
    }

    /// <summary>A tiny second extractor: a 4-bin-per-channel colour histogram (12-d).</summary>
    private sealed class ColourHistogramExtractor : IImageFeatureExtractor
    {
        public string Name => "histogram";

        public int Dimension => 12;

        public string? CacheIdentity => "histogram-v1";

        public float[][] Extract(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default) =>
            images.Select(img =>
            {
                var h = new float[12];
                for (int p = 0; p < img.Width * img.Height; p++)
                    for (int c = 0; c < 3; c++) h[c * 4 + img.Pixels[4 * p + c] / 64] += 1f / (img.Width * img.Height);
                return h;
            }).ToArray();
    }
}
