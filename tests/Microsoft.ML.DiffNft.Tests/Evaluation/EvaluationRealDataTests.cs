using System.Diagnostics;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Collections;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>
/// The real-data checks of docs/evaluation.md, at N = 1,000 (minutes on 2 cores): run with DIFFNFT_LONG_TESTS=1.
/// </summary>
public sealed class EvaluationRealDataTests(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("DIFFNFT_LONG_TESTS") == "1";

    private NftGenerationEvaluatorOptions Options(int n) => new()
    {
        SampleSize = n,
        UseReferenceCache = false, // measure the full cost every time
    };

    [Fact]
    public void CryptoadzHalvesAreFarCloserThanCryptoadzAndNouns()
    {
        if (!Enabled)
        {
            output.WriteLine("Skipped: set DIFFNFT_LONG_TESTS=1 to run the N = 1,000 real-data checks.");
            return;
        }
        const int n = 1000;
        var toadz = CollectionTestData.Cryptoadz;
        // Tokens 0–1,999 in id order, split even/odd: two disjoint halves of one collection.
        var even = toadz.Tokens.Take(2 * n).Where((_, i) => i % 2 == 0).Select(t => t.Image!).ToList();
        var odd = new NftCollection(toadz.Tokens.Take(2 * n).Where((_, i) => i % 2 == 1).Select(t => new NftToken(t.TokenId, []) { Image = t.Image }).ToList(), "cryptoadz-odd");
        var nouns = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = n, Seed = 7 }).Tokens.Select(t => t.Image!).ToList();

        var mlContext = new MLContext(seed: 0);
        using var resnet = new ResNet18FeatureExtractor();
        var options = Options(n);
        options.ResNet18Extractor = resnet;
        var clock = Stopwatch.StartNew();
        var halves = mlContext.NftGeneration.Evaluate(even, odd, options);
        double halvesSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var cross = mlContext.NftGeneration.Evaluate(nouns, odd, options);
        double crossSeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"CrypToadz even vs odd (N={n}): {halves.ToJson()}  [{halvesSeconds:F0} s, load {Load()}]");
        output.WriteLine($"Nouns vs CrypToadz odd (N={n}): {cross.ToJson()}  [{crossSeconds:F0} s, load {Load()}]");

        Assert.True(halves.FidResNet18 * 5 < cross.FidResNet18, $"FID halves {halves.FidResNet18:F2} vs cross {cross.FidResNet18:F2}");
        Assert.True(Math.Abs(halves.KidResNet18) < 0.1 * cross.KidResNet18, $"KID halves {halves.KidResNet18:F4} vs cross {cross.KidResNet18:F4}");
        Assert.Null(halves.RarityScore); // plain images: no traits
    }

    [Fact]
    public void RenderedNounsDecodeToTheirMetadataAndAReferenceSampleScoresOne()
    {
        if (!Enabled)
        {
            output.WriteLine("Skipped: set DIFFNFT_LONG_TESTS=1 to run the N = 1,000 real-data checks.");
            return;
        }
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 2000, Seed = 7 });
        var images = collection.Tokens.Select(t => t.Image!).ToList();

        // Decoded traits equal the metadata (an ambiguous layer — a part fully hidden — must still render the same image).
        var decoded = new NounsTraitDecoder().DecodeMany(images);
        int mismatched = 0, ambiguous = 0;
        for (int i = 0; i < images.Count; i++)
        {
            var expected = collection.Tokens[i].Attributes.Select(a => (a.TraitType, a.Value)).ToList();
            var actual = decoded[i].Attributes.Select(a => (a.TraitType, a.Value)).ToList();
            if (expected.SequenceEqual(actual)) continue;
            if (NounsLayers.DrawOrder.Any(decoded[i].IsAmbiguous) && NounsRenderer.Render(decoded[i].Seed).PixelEquals(images[i])) ambiguous++;
            else mismatched++;
        }
        output.WriteLine($"2,000 rendered Nouns: {2000 - mismatched - ambiguous} decode to their metadata exactly, {ambiguous} to an equally valid reading of a hidden part, {mismatched} wrongly.");
        Assert.Equal(0, mismatched);

        // A sample of the reference evaluated against the reference: every image decodable, mean OpenRarity score ≈ 1.
        var clock = Stopwatch.StartNew();
        var metrics = new MLContext(seed: 0).NftGeneration.Evaluate(images, collection.Collection, Options(1000));
        output.WriteLine($"Nouns sample vs its collection (N=1000): {metrics.ToJson()}  [{clock.Elapsed.TotalSeconds:F0} s, load {Load()}]");
        Assert.Equal(1.0, metrics.DecodableRate);
        Assert.InRange(metrics.RarityScore!.Value, 0.97, 1.03);
        Assert.InRange(metrics.RareRate!.Value, 0.03, 0.07);
        Assert.Equal(0.0, metrics.Novelty); // hidden parts are wildcards: every sample token's visible combination is in the reference
        // Unique DNA does not mean unique pixels: two seeds whose only difference is a hidden part render identically.
        // Count images with an earlier near-identical one (no RGB channel differs by more than 16) by brute force.
        var sample = NftGenerationEvaluator.Sample(images.Count, 1000, 0).Select(i => images[i]).ToList();
        static int MaxDiff(RgbaImage a, RgbaImage b)
        {
            int max = 0;
            for (int p = 0; p < a.Pixels.Length; p++) if (p % 4 != 3) max = Math.Max(max, Math.Abs(a.Pixels[p] - b.Pixels[p]));
            return max;
        }
        int repeats = 0;
        for (int i = 0; i < sample.Count; i++)
            if (Enumerable.Range(0, i).Any(j => MaxDiff(sample[j], sample[i]) <= 16)) repeats++;
        output.WriteLine($"{repeats} of 1,000 sampled Nouns repeat an earlier one pixel for pixel (every channel within 16).");
        Assert.Equal(repeats / 1000.0, metrics.DuplicateRate);
    }

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
