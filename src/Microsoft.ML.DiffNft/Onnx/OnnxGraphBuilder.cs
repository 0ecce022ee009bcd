namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Builds an <see cref="OnnxModel"/> node by node: each call appends one operator (default ai.onnx domain) and returns
/// the name of its output, so a network is written as straight-line code in topological order. Intermediate names
/// are generated and unique; weights become float32 initializers; int64 shape and axis operands become
/// <c>Constant</c> nodes (the model records hold float tensors only).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<OnnxNode> _nodes = new();
    private readonly Dictionary<string, OnnxTensor> _initializers = new(StringComparer.Ordinal);
    private readonly List<OnnxValueInfo> _inputs = new();
    private readonly List<OnnxValueInfo> _outputs = new();
    private int _counter;

    /// <summary>Declares a float32 graph input; −1 in <paramref name="shape"/> is a symbolic dimension.</summary>
    public string Input(string name, params long[] shape)
    {
        _inputs.Add(new OnnxValueInfo(name, OnnxProto.DataType.Float, shape));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a float32 graph output named <paramref name="name"/> (through an Identity node).</summary>
    public void Output(string name, string value, params long[] shape)
    {
        _nodes.Add(new OnnxNode(name, "Identity", "", [value], [name], new Dictionary<string, OnnxAttribute>()));
        _outputs.Add(new OnnxValueInfo(name, OnnxProto.DataType.Float, shape));
    }

    /// <summary>Adds a float32 initializer (a weight) and returns its name.</summary>
    public string Weight(string name, long[] dims, float[] data)
    {
        var tensor = new OnnxTensor(name, dims, data);
        if (tensor.ElementCount != data.Length)
            throw new ArgumentException($"Weight '{name}' has {data.Length} values for shape [{string.Join(", ", dims)}].", nameof(data));
        if (!_initializers.TryAdd(name, tensor)) throw new ArgumentException($"Weight '{name}' is defined twice.", nameof(name));
        return name;
    }

    /// <summary>A float32 scalar initializer.</summary>
    public string Scalar(float value) => Weight(NewName("scalar"), [], [value]);

    /// <summary>A 1-D int64 constant (shapes, axes, split sizes).</summary>
    public string Int64s(params long[] values) =>
        Node("Constant", [], Attribute.Ints("value_ints", values));

    /// <summary>A scalar int64 constant (a Gather index that drops its axis).</summary>
    public string Int64(long value) => Node("Constant", [], Attribute.Int("value_int", value));

    /// <summary>Appends an operator with one output and returns the output's name.</summary>
    public string Node(string opType, string[] inputs, params OnnxAttribute[] attributes) => Node(opType, inputs, 1, attributes)[0];

    /// <summary>Appends an operator with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string opType, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        string name = NewName(opType);
        var names = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? name : $"{name}_{i}").ToArray();
        _nodes.Add(new OnnxNode(name, opType, "", inputs, names, attributes.ToDictionary(a => a.Name, StringComparer.Ordinal)));
        return names;
    }

    /// <summary>The model: IR version 8, the default domain at <paramref name="opset"/>.</summary>
    public OnnxModel Build(string graphName, string producer, string producerVersion, long opset) =>
        new(8, producer, producerVersion, new Dictionary<string, long> { [""] = opset },
            new OnnxGraph(graphName, _nodes.ToList(), new Dictionary<string, OnnxTensor>(_initializers), _inputs.ToList(), _outputs.ToList()));

    private string NewName(string prefix) => $"{prefix}_{_counter++}";

    /// <summary>Attribute values for <see cref="Node(string, string[], OnnxAttribute[])"/>.</summary>
    public static class Attribute
    {
        /// <summary>An integer attribute.</summary>
        public static OnnxAttribute Int(string name, long value) => new(name, OnnxProto.AttributeType.Int, 0, value, "", [], [], null);

        /// <summary>An integer-list attribute.</summary>
        public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxProto.AttributeType.Ints, 0, 0, "", [], values, null);

        /// <summary>A float attribute.</summary>
        public static OnnxAttribute Float(string name, float value) => new(name, OnnxProto.AttributeType.Float, value, 0, "", [], [], null);
    }
}
