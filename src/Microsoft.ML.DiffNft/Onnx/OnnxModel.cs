namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>The parts of an ONNX <c>ModelProto</c> that running a feed-forward graph needs.</summary>
internal sealed record OnnxModel(long IrVersion, string ProducerName, string ProducerVersion, IReadOnlyDictionary<string, long> Opsets, OnnxGraph Graph)
{
    /// <summary>The opset version of the default (ai.onnx) domain, 0 when not declared.</summary>
    public long DefaultOpset => Opsets.TryGetValue("", out long v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 0;
}

/// <summary>An ONNX <c>GraphProto</c>: nodes in topological order, weights, and the graph's inputs and outputs.</summary>
internal sealed record OnnxGraph(string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyDictionary<string, OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>An ONNX <c>NodeProto</c>: one operator application.</summary>
internal sealed record OnnxNode(string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>An integer attribute, or <paramref name="fallback"/> when absent.</summary>
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? a.Int : fallback;

    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    public string String(string name, string fallback) => Attributes.TryGetValue(name, out var a) ? a.String : fallback;

    /// <summary>An integer-list attribute, or null when absent.</summary>
    public long[]? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;

    /// <summary>How the node is named in messages: its name and operator.</summary>
    public override string ToString() => $"{OpType} node '{Name}'";
}

/// <summary>An ONNX <c>AttributeProto</c> (the value kinds a CNN uses).</summary>
internal sealed record OnnxAttribute(string Name, int Type, float Float, long Int, string String, float[] Floats, long[] Ints, OnnxTensor? Tensor);

/// <summary>A graph input or output: its name, element type and shape (−1 for a symbolic or unknown dimension).</summary>
internal sealed record OnnxValueInfo(string Name, int ElementType, long[] Shape);

/// <summary>An ONNX <c>TensorProto</c> holding float32 data (the only kind a CNN's weights need).</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, float[] Data)
{
    /// <summary>The number of elements the dimensions describe.</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
}
