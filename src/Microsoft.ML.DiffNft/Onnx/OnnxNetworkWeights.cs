using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// A torch module's tensors by <c>state_dict</c> name, handed to an exporter one by one: each must become exactly one
/// initializer. Reading weights by name makes a change to the network fail the export loudly (a missing or unused name)
/// instead of silently exporting a different network.
/// </summary>
internal sealed class OnnxNetworkWeights
{
    private readonly Dictionary<string, (long[] Shape, float[] Data)> _values;
    private readonly string _network;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private OnnxNetworkWeights(Dictionary<string, (long[] Shape, float[] Data)> values, string network)
    {
        _values = values;
        _network = network;
    }

    /// <summary>Copies every tensor of <paramref name="module"/> (parameters and buffers) to float32 arrays.</summary>
    public static OnnxNetworkWeights From(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var values = new Dictionary<string, (long[] Shape, float[] Data)>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (name, t) in module.state_dict())
            values[name] = (t.shape, t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray());
        return new OnnxNetworkWeights(values, module.GetName());
    }

    /// <summary>The tensor <paramref name="name"/> as an initializer of the same shape.</summary>
    public string Take(OnnxGraphBuilder g, string name)
    {
        var (shape, data) = Get(name);
        return g.Weight(name, shape, data);
    }

    /// <summary>A 2-D weight [out, in] as an initializer [in, out], so x · Wᵀ is one MatMul.</summary>
    public string TakeTransposed(OnnxGraphBuilder g, string name)
    {
        var (shape, data) = Get(name);
        if (shape.Length != 2) throw new InvalidOperationException($"Weight '{name}' has shape [{string.Join(", ", shape)}], not 2-D.");
        int rows = (int)shape[0], cols = (int)shape[1];
        var t = new float[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c];
        return g.Weight(name, [cols, rows], t);
    }

    /// <summary>Throws if a tensor of the network was not exported: the graph would compute something else.</summary>
    public void CheckAllUsed()
    {
        var left = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (left.Count > 0) throw new InvalidOperationException($"The ONNX export of {_network} does not use its tensors {string.Join(", ", left)}.");
    }

    private (long[] Shape, float[] Data) Get(string name)
    {
        if (!_values.TryGetValue(name, out var v))
            throw new InvalidOperationException($"{_network} has no tensor '{name}'; the ONNX exporter does not match the network.");
        _used.Add(name);
        return v;
    }
}
