using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Evaluation.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

public sealed class OnnxModelReaderTests(ITestOutputHelper output)
{
    [Fact]
    public void ResNet18GraphHasTheDocumentedStructure()
    {
        var files = ResNet18ModelFiles.Find();
        var model = OnnxModelReader.Read(files.NetworkPath);
        output.WriteLine($"ir {model.IrVersion} producer {model.ProducerName} {model.ProducerVersion} opset {model.DefaultOpset}");
        foreach (var i in model.Graph.Inputs) output.WriteLine($"input {i.Name} [{string.Join(",", i.Shape)}]");
        foreach (var o in model.Graph.Outputs) output.WriteLine($"output {o.Name} [{string.Join(",", o.Shape)}]");
        foreach (var n in model.Graph.Nodes)
            output.WriteLine($"{n.OpType} {n.Name} in=[{string.Join(",", n.Inputs)}] out=[{string.Join(",", n.Outputs)}] " +
                string.Join(" ", n.Attributes.Values.Select(a => $"{a.Name}={a.Int}/{a.Float}/{a.String}/[{string.Join(",", a.Ints)}]")));
        var pre = OnnxModelReader.Read(files.PreprocessPath);
        foreach (var n in pre.Graph.Nodes)
            output.WriteLine($"PRE {n.OpType} {n.Name} in=[{string.Join(",", n.Inputs)}] out=[{string.Join(",", n.Outputs)}] " +
                string.Join(" ", n.Attributes.Values.Select(a => $"{a.Name}={a.Int}/{a.Float}/{a.String}/[{string.Join(",", a.Ints)}]")));
        foreach (var i in pre.Graph.Initializers.Values) output.WriteLine($"PRE init {i.Name} [{string.Join(",", i.Dims)}]");
        Assert.Equal(74, model.Graph.Nodes.Count);
    }
}
