using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>The bundled models load, have the documented shapes, and belong to the built-in collection.</summary>
public sealed class BundledModelsTests
{
    private static string Folder => BundledModels.Find()
        ?? throw new InvalidOperationException("models/builtin was not found above the test output; the CLI project copies it there.");

    [Fact]
    public void TheBaseModelIsTheSmallPresetTrainedOnTheBuiltInCollectionsCaptions()
    {
        using var model = DiffusionModel.Load(Path.Combine(Folder, BundledModels.BaseModelFileName), DiffNftDevice.Cpu);
        // Known answer: the parameter count the trainer printed when it wrote the model.
        Assert.Equal(2_997_580, model.ParameterCount);
        Assert.Equal(StageFingerprint.Describe(UNetOptions.For(DiffusionPreset.Small)), StageFingerprint.Describe(model.Options.UNet));
        Assert.Equal(PredictionType.V, model.Options.Prediction);

        // The caption vocabulary is a function of the training captions: the built-in collection's give the same one.
        var collection = NounsCollectionGenerator.GenerateDetailed(WithoutImages(BuiltInCollection.CreateOptions())).Collection;
        var captions = collection.Tokens.Select(t => t.Caption!).ToList();
        Assert.Equal(PromptTokenizer.FromCaptions(captions).Vocabulary, model.Tokenizer.Vocabulary);
    }

    [Fact]
    public void TheRewardModelIsTheSmallVitWithItsRecordedMetrics()
    {
        using var model = RarityRewardModel.Load(Path.Combine(Folder, BundledModels.RewardModelFileName), DiffNftDevice.Cpu);
        Assert.Equal(625_730, model.ParameterCount);   // docs/reward.md: Small at 32×32
        Assert.Equal(VitOptions.For(VitPreset.Small).ForImageSize(32), model.Options);
        Assert.Equal(0.9988951545236789, model.Metrics!.Spearman);
        Assert.Equal(BundledModels.RewardTrainingSteps, model.Metrics.Steps);
        Assert.Equal(model.Metrics.ToJson().Trim(), File.ReadAllText(Path.Combine(Folder, BundledModels.RewardMetricsFileName)).Trim());
    }

    [Fact]
    public void TheReadmeStatesTheFilesSizesAndHashes()
    {
        string readme = File.ReadAllText(Path.Combine(Folder, "README.md"));
        long total = 0;
        foreach (var name in new[] { BundledModels.BaseModelFileName, BundledModels.RewardModelFileName, BundledModels.RewardMetricsFileName })
        {
            var bytes = File.ReadAllBytes(Path.Combine(Folder, name));
            total += bytes.Length;
            var row = Regex.Match(readme, $@"^\| `{Regex.Escape(name)}` \|.*$", RegexOptions.Multiline);
            Assert.True(row.Success, $"README.md has no table row for {name}");
            Assert.Contains(bytes.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), row.Value);
            Assert.Contains(Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(), row.Value);
        }
        Assert.True(total <= 20_000_000, $"The bundled files take {total:N0} bytes; the budget is 20 MB.");
        Assert.Contains(total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), readme);
    }

    [Fact]
    public void TheBuiltInCollectionIsTheOneTheModelsWereTrainedOn()
    {
        // Known answer: SHA-256 of the 4,000 captions (joined by newlines, token order) of the collection written by
        // `diffnft collection nouns --count 4000 --seed 1 --weights zipf:1.0 --parts bodies=6,accessories=10,heads=12,glasses=8`.
        var collection = NounsCollectionGenerator.GenerateDetailed(WithoutImages(BuiltInCollection.CreateOptions())).Collection;
        Assert.Equal(BuiltInCollection.Count, collection.Count);
        string joined = string.Join("\n", collection.Tokens.Select(t => t.Caption));
        Assert.Equal("8bd351b49c5605062fce941bdced17e97e93ba28834f73bb959b3d284accbc75",
            Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(joined))).ToLowerInvariant());

        Assert.True(BuiltInCollection.IsBuiltIn(BuiltInCollection.CreateOptions()));
        var parsed = new NounsCollectionOptions
        {
            Count = 4000, Seed = 1, Weights = NounsLayerWeights.Parse("zipf:1"), Parts = NounsSubset.Parse("glasses=8, heads=12,accessories=10,bodies=6"),
        };
        Assert.True(BuiltInCollection.IsBuiltIn(parsed));
        Assert.False(BuiltInCollection.IsBuiltIn(new NounsCollectionOptions { Count = 4000, Seed = 2, Weights = parsed.Weights, Parts = parsed.Parts }));
        Assert.False(BuiltInCollection.IsBuiltIn(BuiltInCollection.CreateOptions().Also(o => o.LayerWeights[NounsLayer.Head] = NounsLayerWeights.Uniform)));
        Assert.Equal("diffnft collection nouns --count 4000 --seed 1 --weights zipf:1.0 --parts bodies=6,accessories=10,heads=12,glasses=8 --out x",
            BuiltInCollection.CommandLine("x"));
    }

    [Fact]
    public void FindWalksUpFromTheStartFolderAndReturnsNullWhenThereIsNone()
    {
        using var dir = new TempDir();
        var nested = Directory.CreateDirectory(Path.Combine(dir.Path, "a", "b", "c")).FullName;
        Assert.Null(BundledModels.Find(nested));
        var ex = Assert.Throws<FileNotFoundException>(() => BundledModels.Require(nested));
        Assert.Contains("QuickstartOptions.FromScratch", ex.Message);
        Assert.DoesNotContain("--", ex.Message);

        var models = Directory.CreateDirectory(Path.Combine(dir.Path, "a", "models", "builtin")).FullName;
        File.WriteAllText(Path.Combine(models, BundledModels.BaseModelFileName), "x");
        Assert.Null(BundledModels.Find(nested));                    // the reward model is missing too
        File.WriteAllText(Path.Combine(models, BundledModels.RewardModelFileName), "x");
        Assert.Equal(models, BundledModels.Find(nested));
    }

    private static NounsCollectionOptions WithoutImages(NounsCollectionOptions o)
    {
        o.RenderImages = false;
        return o;
    }
}

internal static class OptionsExtensions
{
    public static T Also<T>(this T value, Action<T> change)
    {
        change(value);
        return value;
    }
}
