using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Onnx;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Reward.Modules;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Onnx;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Onnx;

/// <summary>
/// The rarity reward exported to ONNX: ONNX Runtime (an independent implementation of every operator) must give the
/// numbers the TorchSharp scorer gives, through ML.NET's <c>ApplyOnnxModel</c> and through an <c>InferenceSession</c>.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class RarityRewardOnnxExportTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public void TheBundledRewardScoresTwoHundredImagesThroughApplyOnnxModelAsTheTorchScorerDoes()
    {
        string folder = BundledModels.Find() ?? throw new InvalidOperationException("models/builtin was not found above the test output.");
        var ml = new MLContext(seed: 1);
        using var scorer = ml.Transforms.DiffNft.LoadRarityReward(Path.Combine(folder, BundledModels.RewardModelFileName),
            new RarityRewardScorerOptions { Device = DiffNftDevice.Cpu });
        int size = scorer.Model.Options.ImageSize;
        using var dir = new TempDir();
        string onnx = Path.Combine(dir.Path, "reward.onnx");
        scorer.ExportToOnnx(onnx);

        // 200 tokens of the built-in collection that the reward was not trained on (another seed), as PNG files.
        var options = BuiltInCollection.CreateOptions();
        options.Count = 200;
        options.Seed = 77;
        var originals = NounsCollectionGenerator.GenerateDetailed(options).Tokens.Select(t => t.Image!).ToList();
        var paths = originals.Select((image, i) =>
        {
            string path = Path.Combine(dir.Path, $"{i}.png");
            PngCodec.Save(image, path);
            return new ImageFile { Path = path };
        }).ToList();

        // The deployment pipeline: LoadImages → ResizeImages (gives the column a known size) → ExtractPixels → ApplyOnnxModel.
        var files = ml.Data.LoadFromEnumerable(paths);
        var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFile.Path))
            .Append(ml.Transforms.ResizeImages("Image", size, size))
            .Fit(files).Transform(files);
        var onnxScored = ml.Transforms.ExtractPixels(RarityRewardScorerTransformer.DefaultPixelColumnName, "Image")
            .Append(ml.Transforms.ApplyOnnxModel(new OnnxOptions
            {
                ModelFile = onnx,
                InputColumns = [RarityRewardScorerTransformer.DefaultPixelColumnName],
                OutputColumns = ["RarityReward", "RareProbability", "Embedding"],
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
            }))
            .Fit(images).Transform(images);
        var torchScored = scorer.Transform(images);

        var onnxReward = Column(onnxScored, "RarityReward");
        var onnxProbability = Column(onnxScored, "RareProbability");
        var onnxEmbedding = Column(onnxScored, "Embedding");
        var reward = torchScored.GetColumn<float>("RarityReward").ToArray();
        var probability = torchScored.GetColumn<float>("RareProbability").ToArray();
        var embedding = torchScored.GetColumn<VBuffer<float>>("Embedding").Select(v => v.DenseValues().ToArray()).ToArray();
        Assert.Equal(200, onnxReward.Length);
        Assert.All(onnxReward, r => Assert.Single(r));
        double rewardDiff = MaxDifference(reward, onnxReward.Select(r => r[0]).ToArray());
        double probabilityDiff = MaxDifference(probability, onnxProbability.Select(p => p[0]).ToArray());
        double embeddingDiff = MaxDifference(embedding.SelectMany(e => e).ToArray(), onnxEmbedding.SelectMany(e => e).ToArray());
        output.WriteLine($"max |ONNX − TorchSharp| over 200 images: reward {rewardDiff:E2}, rare probability {probabilityDiff:E2}, embedding {embeddingDiff:E2}");
        Assert.InRange(rewardDiff, 0, Tolerance);
        Assert.InRange(probabilityDiff, 0, Tolerance);
        Assert.Equal(embedding.Length * scorer.Model.EmbeddingSize, onnxEmbedding.Sum(e => e.Length));
        Assert.InRange(embeddingDiff, 0, Tolerance);
        // ResizeImages to the size the images already have leaves their pixels alone: the scorer gives the rewards of the
        // original images (docs/onnx.md relies on this).
        Assert.Equal(scorer.Model.Predict(originals).Rewards, reward);
        // The images are not all alike, so agreement is not the trivial agreement of constant outputs.
        Assert.True(reward.Max() - reward.Min() > 0.5f, $"rewards span only {reward.Min()} … {reward.Max()}");
    }

    [Theory]
    [InlineData(VitPatchEmbedding.Linear, VitPooling.ClassToken, RarityRewardKind.RareLogit)]
    [InlineData(VitPatchEmbedding.Convolutional, VitPooling.ClassToken, RarityRewardKind.RareLogProbability)]
    [InlineData(VitPatchEmbedding.Linear, VitPooling.Mean, RarityRewardKind.ZScore)]
    public void OnnxRuntimeLoadsTheGraphWithItsDeclaredShapesAndRunsABatchLikeForward(VitPatchEmbedding patches, VitPooling pooling, RarityRewardKind kind)
    {
        var options = VitOptions.For(VitPreset.Tiny) with { PatchEmbedding = patches, Pooling = pooling, ImageSize = 16, PatchSize = 4 };
        using var model = RandomModel(options, seed: (int)kind);
        var ml = new MLContext(seed: 1);
        using var scorer = new RarityRewardScorerTransformer(ml, model, new RarityRewardScorerOptions { RewardKind = kind, RewardColumnName = "R" });
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "sub", "reward.onnx");
        scorer.ExportToOnnx(path, "Input");

        using var session = new InferenceSession(path, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("Input", input.Key);
        Assert.Equal([-1, 3, 16, 16], input.Value.Dimensions);
        Assert.Equal(["R", "RareProbability", "Embedding"], session.OutputMetadata.Keys);
        Assert.Equal([-1], session.OutputMetadata["R"].Dimensions);
        Assert.Equal([-1, options.Dim], session.OutputMetadata["Embedding"].Dimensions);

        // Five random images, as planes of 0 … 255 computed here (not by ExtractPixels), in one batch.
        var random = new Random(3);
        var images = Enumerable.Range(0, 5).Select(_ =>
        {
            var pixels = new byte[16 * 16 * 4];
            random.NextBytes(pixels);
            return new RgbaImage(16, 16, pixels);
        }).ToList();
        var planes = new float[5 * 3 * 16 * 16];
        for (int n = 0; n < 5; n++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 256; p++) planes[((n * 3) + c) * 256 + p] = images[n].Pixels[4 * p + c];
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Input", new DenseTensor<float>(planes, [5, 3, 16, 16]))]);
        float[] Result(string name) => results.Single(r => r.Name == name).AsTensor<float>().ToArray();

        using var scope = NewDisposeScope();
        var expected = model.Forward(ImageTensors.ToTensor(images), kind);
        Assert.InRange(MaxDifference(expected.Reward.data<float>().ToArray(), Result("R")), 0, Tolerance);
        Assert.InRange(MaxDifference(expected.RareProbability.data<float>().ToArray(), Result("RareProbability")), 0, Tolerance);
        Assert.InRange(MaxDifference(expected.Embedding.data<float>().ToArray(), Result("Embedding")), 0, Tolerance);
    }

    [Fact]
    public void TheReaderReadsBackWhatTheWriterWrote()
    {
        var options = VitOptions.For(VitPreset.Tiny) with { ImageSize = 16, PatchSize = 4, Pooling = VitPooling.ClassToken };
        using var model = RandomModel(options, seed: 5);
        var graph = RarityRewardOnnxExporter.Build(model, RarityRewardKind.ZScore, "Pixels", "R", "P", "E");
        var read = OnnxModelReader.Read(OnnxModelWriter.ToBytes(graph), "memory");

        Assert.Equal(17, read.DefaultOpset);
        Assert.Equal("Microsoft.ML.DiffNft", read.ProducerName);
        Assert.Equal(graph.Graph.Nodes.Select(n => (n.OpType, string.Join(",", n.Inputs), string.Join(",", n.Outputs))),
            read.Graph.Nodes.Select(n => (n.OpType, string.Join(",", n.Inputs), string.Join(",", n.Outputs))));
        Assert.Equal(graph.Graph.Initializers.Keys.Order(), read.Graph.Initializers.Keys.Order());
        foreach (var (name, t) in graph.Graph.Initializers)
        {
            Assert.Equal(t.Dims, read.Graph.Initializers[name].Dims);
            Assert.Equal(t.Data, read.Graph.Initializers[name].Data);
        }
        var conv = read.Graph.Nodes.First(n => n.OpType == "Conv");
        Assert.Equal([3L, 3], conv.Ints("kernel_shape")!);
        Assert.Equal(1e-5f, read.Graph.Nodes.First(n => n.OpType == "LayerNormalization").Float("epsilon", 0));
        Assert.Equal([-1L, 3, 16, 16], Assert.Single(read.Graph.Inputs).Shape);
        Assert.Equal(["R", "P", "E"], read.Graph.Outputs.Select(o => o.Name));
        // Every tensor of the network is in the file, and the constants of the preprocessing besides.
        Assert.Equal(model.Network.state_dict().Count + 2, read.Graph.Initializers.Keys.Count(k => !k.StartsWith("scalar_", StringComparison.Ordinal)));
    }

    [Fact]
    public void ExportChecksItsArguments()
    {
        using var model = RandomModel(VitOptions.For(VitPreset.Tiny) with { ImageSize = 16, PatchSize = 4 }, seed: 1);
        using var scorer = new RarityRewardScorerTransformer(new MLContext(seed: 1), model);
        Assert.Throws<ArgumentNullException>(() => scorer.ExportToOnnx(null!));
        Assert.Throws<ArgumentException>(() => scorer.ExportToOnnx(" "));
        Assert.Throws<ArgumentException>(() => scorer.ExportToOnnx("x.onnx", ""));
        Assert.Contains("output column", Assert.Throws<ArgumentException>(() => scorer.ExportToOnnx("x.onnx", "Embedding")).Message);
    }

    /// <summary>A Tiny network with random weights everywhere — LayerNorm gains and biases too, which start at 1 and 0 —
    /// and non-trivial normalisation constants, so no part of the graph can be wrong without changing the outputs.</summary>
    private static RarityRewardModel RandomModel(VitOptions options, int seed)
    {
        manual_seed(seed);
        var network = new RarityNetwork(options);
        using (no_grad())
        {
            foreach (var (name, p) in network.named_parameters())
            {
                if (name.Contains("norm", StringComparison.OrdinalIgnoreCase) || name.Contains("Norm", StringComparison.Ordinal))
                    p.copy_((name.EndsWith("weight", StringComparison.Ordinal) ? 1 : 0) + 0.3 * randn_like(p));
                else if (name.Contains("Token", StringComparison.Ordinal) || name.Contains("position", StringComparison.Ordinal))
                    p.copy_(0.5 * randn_like(p));
            }
        }
        var normalization = new RewardNormalization
        {
            PixelMean = [0.2f, -0.1f, 0.05f], PixelStd = [0.5f, 0.7f, 0.6f], ScoreMean = 1, ScoreStd = 0.1, RareLogitOffset = -1.5,
        };
        return new RarityRewardModel(options, normalization, network, CPU, metrics: null);
    }

    private static float[][] Column(IDataView view, string name) =>
        view.GetColumn<VBuffer<float>>(name).Select(v => v.DenseValues().ToArray()).ToArray();

    private static double MaxDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }

    private sealed class ImageFile
    {
        public string Path { get; set; } = "";
    }
}
