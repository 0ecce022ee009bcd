using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Onnx;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Onnx;

public sealed class OnnxModelReaderTests
{
    [Fact]
    public void ResNet18AndItsPreprocessingGraphHaveTheDocumentedStructure()
    {
        var files = ResNet18ModelFiles.Find();
        var model = OnnxModelReader.Read(files.NetworkPath);
        Assert.Equal("CNTK", model.ProducerName);
        Assert.Equal(8, model.DefaultOpset);
        Assert.Equal([1L, 3, 224, 224], model.Graph.Inputs.Single(i => !model.Graph.Initializers.ContainsKey(i.Name)).Shape);
        Assert.Equal([1L, 512, 1, 1], model.Graph.Outputs.Single().Shape);
        var ops = model.Graph.Nodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(74, model.Graph.Nodes.Count);
        Assert.Equal(new Dictionary<string, int>
        {
            ["Conv"] = 22, ["BatchNormalization"] = 22, ["Relu"] = 19, ["Add"] = 9, ["MaxPool"] = 1, ["AveragePool"] = 1,
        }.OrderBy(kv => kv.Key), ops.OrderBy(kv => kv.Key));
        // Every initializer has data of its declared size; the convolutions have the shapes of a ResNet with basic blocks.
        Assert.All(model.Graph.Initializers.Values, t => Assert.Equal(t.ElementCount, t.Data.Length));
        var convWeights = model.Graph.Nodes.Where(n => n.OpType == "Conv").Select(n => model.Graph.Initializers[n.Inputs[1]].Dims).ToList();
        Assert.Equal([64L, 3, 7, 7], convWeights[0]);
        Assert.Equal([512L, 512, 3, 3], convWeights[^1]);
        // Not torchvision's ResNet-18: this CNTK model's last stage has three basic blocks (2, 2, 2, 3), hence 22
        // convolutions, 9 residual additions and 15.9 M convolution weights instead of 20, 8 and 11.2 M.
        Assert.Equal(15_885_504, convWeights.Sum(d => d.Aggregate(1L, (a, b) => a * b)));
        Assert.Equal(5, convWeights.Count(d => d.SequenceEqual([512L, 512, 3, 3])));
        var stem = model.Graph.Nodes[0];
        Assert.Equal([3L, 3, 2, 2], stem.Ints("pads")!); // CNTK's asymmetric padding, which the runner must honour

        var pre = OnnxModelReader.Read(files.PreprocessPath);
        Assert.Equal(["Split", "Concat", "Sub"], pre.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(["BInp", "GInp", "RInp"], pre.Graph.Nodes[1].Inputs); // RGB → BGR
        var mean = pre.Graph.Initializers["MeanImage"];
        Assert.Equal([1L, 3, 224, 224], mean.Dims);
        // The per-channel means of the mean image are ImageNet's, in BGR order: 103.06, 115.90, 123.15.
        double[] channel = Enumerable.Range(0, 3).Select(c => mean.Data.Skip(c * 224 * 224).Take(224 * 224).Average(v => (double)v)).ToArray();
        Assert.Equal(103.06, channel[0], 1);
        Assert.Equal(115.90, channel[1], 1);
        Assert.Equal(123.15, channel[2], 1);
    }
}
