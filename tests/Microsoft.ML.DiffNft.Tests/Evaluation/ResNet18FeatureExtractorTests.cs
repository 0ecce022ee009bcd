using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Collections;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

public sealed class ResNet18FeatureExtractorTests(ITestOutputHelper output)
{
    /// <summary>A handful of different images: Nouns, CrypToadz tiles, a transparent sprite, a large non-square photo-like gradient.</summary>
    internal static List<RgbaImage> SampleImages()
    {
        var images = new List<RgbaImage>
        {
            NounsRenderer.Render(new NounSeed(0, 3, 10, 20, 5)),
            NounsRenderer.Render(new NounSeed(1, 28, 120, 95, 15)),
        };
        var toadz = CollectionTestData.Cryptoadz;
        images.Add(toadz.Tokens[0].Image!);
        images.Add(toadz.Tokens[500].Image!);
        var sprite = new RgbaImage(20, 20);
        for (int y = 5; y < 15; y++) for (int x = 3; x < 17; x++) sprite.SetPixel(x, y, 200, 40, 90, (byte)(x * 15));
        images.Add(sprite);
        var gradient = new RgbaImage(300, 180);
        var rng = new Random(5);
        for (int y = 0; y < 180; y++) for (int x = 0; x < 300; x++)
            gradient.SetPixel(x, y, (byte)(x * 255 / 299), (byte)(y * 255 / 179), (byte)rng.Next(256));
        images.Add(gradient);
        return images;
    }

    [Fact]
    public void TorchFeaturesEqualOnnxRuntimeWithin1e4()
    {
        var images = SampleImages();
        using var torchExtractor = new ResNet18FeatureExtractor(new ResNet18FeatureExtractorOptions { BatchSize = 4 });
        using var reference = new OnnxRuntimeResNet18(torchExtractor.Files, threads: 2);
        var expected = reference.Extract(images);
        var actual = torchExtractor.Extract(images);
        double worst = 0, scale = 0;
        for (int i = 0; i < images.Count; i++)
        {
            Assert.Equal(ResNet18FeatureExtractor.FeatureDimension, actual[i].Length);
            for (int k = 0; k < actual[i].Length; k++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i][k] - expected[i][k]));
                scale = Math.Max(scale, Math.Abs(expected[i][k]));
            }
        }
        output.WriteLine($"max |torch − onnxruntime| = {worst:E3} over {images.Count} images (largest feature {scale:F3})");
        Assert.True(scale > 0.1, "The reference features are all near zero; the comparison would be vacuous.");
        Assert.True(worst <= 1e-4, $"TorchSharp features differ from ONNX Runtime's by {worst:E3} (> 1e-4).");
        // Features are post-ReLU averages: non-negative, and different images give different features.
        Assert.All(actual, f => Assert.All(f, v => Assert.True(v >= 0)));
        Assert.NotEqual(actual[0], actual[2]);

        // Batching does not change features: one image per call gives the same vectors as batches of four.
        for (int i = 0; i < 2; i++)
        {
            var single = torchExtractor.Extract([images[i]])[0];
            for (int k = 0; k < single.Length; k++)
                Assert.True(Math.Abs(single[k] - actual[i][k]) <= 1e-4, $"image {i} feature {k}: {single[k]} alone vs {actual[i][k]} in a batch");
        }
    }

    [Fact]
    public void MissingModelFolderNamesWhereItLooked()
    {
        string dir = Path.Combine(Path.GetTempPath(), "diffnft-no-models-" + Guid.NewGuid().ToString("N")[..8]);
        var found = ResNet18ModelFiles.Find(dir);
        // The explicit folder does not exist, so the search falls through to the next places and still finds the package.
        Assert.NotEqual(Path.GetFullPath(dir), found.Directory);
        Assert.True(File.Exists(found.NetworkPath));
    }
}
