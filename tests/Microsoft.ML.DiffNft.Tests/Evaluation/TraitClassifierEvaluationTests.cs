using System.Text.Json;
using DiffNft.Cli;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Tests.Collections;
using Microsoft.ML.DiffNft.TraitClassification;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Evaluation.TraitClassifierTestData;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>The trait classifier as the evaluator's judge, through the API and the CLI.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class TraitClassifierEvaluationTests
{
    private const int N = 8;

    [Fact]
    public void TheEvaluatorWithTheClassifierScoresANonNounsCollection()
    {
        var mlContext = new MLContext(seed: 1);
        var tokens = new TraitClassifierTrainer(Options()).Split(Collection).HeldOut.Take(N).ToList();
        var images = tokens.Select(t => t.Image!).ToList();
        using var resnet = new ResNet18FeatureExtractor();
        using var cache = new TempDir(); // the second evaluation reads the reference features the first one wrote
        NftGenerationEvaluatorOptions Eval(IImageTraitDecoder? decoder) => new()
        {
            SampleSize = N, KidSubsets = 5, ResNet18Extractor = resnet, ReferenceCacheDirectory = cache.Path, TraitDecoder = decoder,
        };

        // Without a decoder, a collection without parts gets no rarity keys…
        var plain = mlContext.NftGeneration.Evaluate(images, Collection, Eval(null));
        Assert.Null(plain.RarityScore);
        Assert.Null(plain.DecodableRate);

        // …with the classifier it does, and they are the reference table's scores of what the classifier read.
        var decoder = new TraitClassifierDecoder(Classifier);
        decoder.EnsureMatches(Collection);
        var metrics = mlContext.NftGeneration.Evaluate(images, Collection, Eval(decoder));
        Assert.Equal("trait-classifier", metrics.TraitDecoder);
        var decoded = decoder.Decode(images);
        var view = Collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
        var table = mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view).Table;
        var readable = decoded.Where(d => d.IsDecodable).Select(d => table.Score(d.Attributes.ToDictionary(a => a.TraitType, a => (string?)a.Value))).ToList();
        Assert.Equal(readable.Count / (double)N, metrics.DecodableRate!.Value, 12);
        Assert.Equal(readable.Average(s => s.Score), metrics.RarityScore!.Value, 12);
        Assert.Equal(readable.Count(s => s.IsRare) / (double)N, metrics.RareRate!.Value, 12);
        Assert.True(metrics.DecodableRate >= 0.75, $"decodable rate {metrics.DecodableRate}");
        // Known answer: these held-out tokens' true traits score within 10 % of what the classifier read.
        double truth = tokens.Average(t => table.Score(t.Attributes.ToDictionary(a => a.TraitType, a => (string?)a.Value)).Score);
        Assert.True(Math.Abs(metrics.RarityScore!.Value - truth) <= 0.1 * truth, $"rarity {metrics.RarityScore} vs true {truth}");
        Assert.NotNull(metrics.Novelty);

        // A classifier trained on other trait types is refused rather than silently scoring nothing.
        var nouns = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 4, Seed = 1 }).Collection;
        var ex = Assert.Throws<ArgumentException>(() => decoder.EnsureMatches(nouns));
        Assert.Contains("'Hat'", ex.Message);
    }

    [Fact]
    public void TheCliTrainsAClassifierAndEvaluateUsesIt()
    {
        using var dir = new TempDir();
        string collection = Path.Combine(dir.Path, "blocks"), generated = Path.Combine(dir.Path, "generated"), model = Path.Combine(dir.Path, "model") + "/";
        var c = Make(120, seed: 6);
        NftCollectionWriter.Write(c, collection, new NftCollectionWriteOptions());

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["train-trait-classifier", "--collection", collection, "--epochs", "3", "--width", "4", "--batch", "32", "--seed", "2",
            "--held-out-images", generated, "--out", model], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        // The held-out images are the split's, pixel for pixel.
        var heldOut = new TraitClassifierTrainer(new TraitClassifierOptions { Seed = 2 }).Split(c).HeldOut;
        // Beside them only the output folder's hidden marker and lock (docs/output-folders.md).
        Assert.Equal(heldOut.Select(t => t.TokenId + ".png").Order(), Directory.EnumerateFiles(generated, "*.png").Select(Path.GetFileName).Order());
        Assert.All(heldOut, t => Assert.True(PngCodec.Load(Path.Combine(generated, t.TokenId + ".png")).PixelEquals(t.Image!)));
        string modelFile = Path.Combine(model, "model.diffnft-traits");
        Assert.True(File.Exists(modelFile));
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "metrics.json"))))
        {
            Assert.Equal(24, doc.RootElement.GetProperty("n_held_out").GetInt32());
            Assert.Equal(4, doc.RootElement.GetProperty("heads").GetArrayLength());
            foreach (var key in new[] { "exact_match_rate", "mean_accuracy", "decodable_rate", "rarity_mae", "rarity_spearman" })
                Assert.True(doc.RootElement.TryGetProperty(key, out _), key);
        }
        Assert.Contains("exact match", stdout.ToString());

        string json = Path.Combine(dir.Path, "m.json");
        stderr = new StringWriter();
        code = CliApp.Run(["evaluate", "--generated", generated, "--reference", collection, "--n", $"{N}", "--no-cache", "--trait-classifier", modelFile, "--out", json], new StringWriter(), stderr);
        Assert.True(code == 0, stderr.ToString());
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            // Three epochs on 96 tokens leave the classifier unsure of some images: the keys exist and are numbers.
            Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("decodable_rate").ValueKind);
            Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("rare_rate").ValueKind);
        }
        Assert.Contains("trait-classifier", stderr.ToString());

        // A classifier for another collection is a one-line error.
        string nouns = Path.Combine(dir.Path, "nouns");
        NftCollectionWriter.Write(NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = N, Seed = 1 }).Collection, nouns, new NftCollectionWriteOptions());
        stderr = new StringWriter();
        code = CliApp.Run(["evaluate", "--generated", generated, "--reference", nouns, "--n", $"{N}", "--no-cache", "--trait-classifier", modelFile, "--out", json], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("trait types that the reference", stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));
    }
}
