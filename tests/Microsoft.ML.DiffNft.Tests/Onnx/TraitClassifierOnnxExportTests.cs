using Microsoft.ML.DiffNft.TraitClassification;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Onnx;

/// <summary>The trait classifier exported to ONNX, run by ONNX Runtime against the TorchSharp network.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class TraitClassifierOnnxExportTests
{
    private const int Side = 16;

    [Fact]
    public void OnnxRuntimeGivesTheLogitsProbabilitiesAndPredictionsOfTheTorchClassifier()
    {
        // Three heads of 4, 2 and 5 classes; random weights, GroupNorm gains and biases included (they start at 1 and 0).
        TraitHead[] heads = [new("Background", ["Sky", "Grass", "Sand"]), new("Hat", ["Cap"]), new("Mouth", ["A", "B", "C", "D"])];
        var architecture = new TraitClassifierArchitecture { ImageSize = Side, Width = 12, HiddenSize = 32 };
        manual_seed(9);
        var network = new TraitClassifierNetwork(architecture, heads.Sum(h => h.ClassCount));
        using (no_grad())
        {
            foreach (var (name, p) in network.named_parameters())
                if (name.Contains("_norm", StringComparison.Ordinal))
                    p.copy_((name.EndsWith("weight", StringComparison.Ordinal) ? 1 : 0) + 0.3 * randn_like(p));
        }
        using var classifier = new TraitClassifier(architecture, heads, [0.1f, -0.2f, 0.3f], [0.6f, 0.5f, 0.7f], network, CPU, metrics: null);
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "traits.onnx");
        classifier.ExportToOnnx(path);

        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });
        Assert.Equal([-1, 3, Side, Side], session.InputMetadata[TraitClassifier.OnnxPixelsName].Dimensions);
        Assert.Equal([-1, 11], session.OutputMetadata[TraitClassifier.OnnxProbabilitiesName].Dimensions);

        var random = new Random(4);
        var images = Enumerable.Range(0, 6).Select(_ =>
        {
            var pixels = new byte[Side * Side * 4];
            random.NextBytes(pixels);
            return new RgbaImage(Side, Side, pixels);
        }).ToList();
        int plane = Side * Side;
        var planes = new float[images.Count * 3 * plane];
        for (int n = 0; n < images.Count; n++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < plane; p++) planes[(n * 3 + c) * plane + p] = images[n].Pixels[4 * p + c];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(TraitClassifier.OnnxPixelsName,
            new DenseTensor<float>(planes, [images.Count, 3, Side, Side]))]);
        float[] Result(string name) => results.Single(r => r.Name == name).AsTensor<float>().ToArray();
        var logits = Result(TraitClassifier.OnnxLogitsName);
        var probabilities = Result(TraitClassifier.OnnxProbabilitiesName);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var raw = TraitClassifierPreprocessing.ToTensor(images, Side, CPU);
        var expected = classifier.Network.call(TraitClassifierPreprocessing.Normalise(raw, classifier.PixelMean, classifier.PixelStd));
        var expectedLogits = expected.data<float>().ToArray();
        Assert.Equal(expectedLogits.Length, logits.Length);
        Assert.InRange(expectedLogits.Zip(logits, (a, b) => Math.Abs(a - b)).Max(), 0, 1e-4);
        Assert.True(expectedLogits.Max() - expectedLogits.Min() > 0.5f, "the logits hardly vary: the comparison would prove little");

        // Decoding the ONNX probabilities (argmax within each head's block) gives Predict's classes and probabilities.
        var predictions = classifier.Predict(images);
        for (int n = 0; n < images.Count; n++)
        {
            int offset = 0;
            for (int h = 0; h < heads.Length; h++)
            {
                var block = probabilities.AsSpan(n * 11 + offset, heads[h].ClassCount).ToArray();
                Assert.Equal(1f, block.Sum(), 5);
                int best = Array.IndexOf(block, block.Max());
                Assert.Equal(predictions[n].Heads[h].ClassIndex, best);
                Assert.Equal(predictions[n].Heads[h].Probability, block[best], 4);
                offset += heads[h].ClassCount;
            }
        }
    }

    [Fact]
    public void ExportChecksItsArguments()
    {
        manual_seed(1);
        var architecture = new TraitClassifierArchitecture { ImageSize = 8, Width = 4, HiddenSize = 4 };
        using var classifier = new TraitClassifier(architecture, [new TraitHead("T", ["x"])], [0f, 0f, 0f], [1f, 1f, 1f],
            new TraitClassifierNetwork(architecture, 2), CPU, metrics: null);
        Assert.Throws<ArgumentNullException>(() => classifier.ExportToOnnx(null!));
        Assert.Throws<ArgumentException>(() => classifier.ExportToOnnx("x.onnx", " "));
        Assert.Throws<ArgumentException>(() => classifier.ExportToOnnx("x.onnx", TraitClassifier.OnnxLogitsName));
    }
}
