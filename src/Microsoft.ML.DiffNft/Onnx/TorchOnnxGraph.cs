using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Runs a feed-forward ONNX graph with TorchSharp, batched: the operators of an image CNN (Conv, BatchNormalization,
/// Relu, Add, Sub, MaxPool, AveragePool, GlobalAveragePool, Split, Concat, Flatten, Identity) with ONNX semantics —
/// asymmetric pads, auto_pad, broadcasting. A declared batch size of 1 in the graph's input is not enforced: every
/// operator here treats the batch axis independently, so N images run in one call.
/// </summary>
/// <remarks>
/// TorchSharp cannot import ONNX, and ONNX Runtime runs this package's ResNet-18 one image at a time (its batch
/// dimension is fixed at 1). Interpreting the graph node by node keeps the ONNX file as the single source of truth for
/// the architecture and weights; any operator outside the list throws <see cref="NotSupportedException"/> at load time.
/// </remarks>
internal sealed class TorchOnnxGraph : IDisposable
{
    private static readonly HashSet<string> s_supported = new(StringComparer.Ordinal)
    {
        "Conv", "BatchNormalization", "Relu", "Add", "Sub", "MaxPool", "AveragePool", "GlobalAveragePool",
        "Split", "Concat", "Flatten", "Identity",
    };

    private readonly OnnxGraph _graph;
    private readonly IReadOnlyList<OnnxNode> _nodes;
    private readonly string _source;
    private readonly Dictionary<string, Tensor> _weights;
    private readonly Dictionary<string, int> _lastUse;

    /// <summary>Prepares <paramref name="model"/> to run on <paramref name="device"/>.</summary>
    /// <exception cref="NotSupportedException">The graph uses an operator outside the supported list.</exception>
    public TorchOnnxGraph(OnnxModel model, string source, Device device)
    {
        _graph = model.Graph;
        _source = source;
        foreach (var node in _graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx") || !s_supported.Contains(node.OpType))
                throw new NotSupportedException(
                    $"'{source}': {node} uses operator '{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}', which the " +
                    $"TorchSharp graph runner does not implement (supported: {string.Join(", ", s_supported.Order(StringComparer.Ordinal))}).");
        }
        var initializers = new Dictionary<string, OnnxTensor>(_graph.Initializers, StringComparer.Ordinal);
        _nodes = FoldBatchNorms(_graph, initializers);
        _weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in initializers)
            _weights[name] = tensor(t.Data, t.Dims, dtype: ScalarType.Float32).to(device).DetachFromDisposeScope();

        // The last node that reads each intermediate value, so it can be freed right after.
        _lastUse = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _nodes.Count; i++)
            foreach (var input in _nodes[i].Inputs)
                _lastUse[input] = i;
        foreach (var output in _graph.Outputs) _lastUse[output.Name] = int.MaxValue;
    }

    /// <summary>The graph's (non-initializer) inputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs => _graph.Inputs.Where(i => !_graph.Initializers.ContainsKey(i.Name)).ToList();

    /// <summary>The graph's outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs => _graph.Outputs;

    /// <summary>Runs the graph on one input tensor and returns its single output. The caller owns the result.</summary>
    public Tensor Run(Tensor input)
    {
        var inputs = Inputs;
        if (inputs.Count != 1 || _graph.Outputs.Count != 1)
            throw new InvalidOperationException($"'{_source}' has {inputs.Count} inputs and {_graph.Outputs.Count} outputs; Run(Tensor) needs one of each.");
        return Run(new Dictionary<string, Tensor> { [inputs[0].Name] = input })[_graph.Outputs[0].Name];
    }

    /// <summary>Runs the graph. Inputs are borrowed; the returned outputs belong to the caller.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var owned = new HashSet<string>(StringComparer.Ordinal); // values this run created and may free
        foreach (var info in Inputs)
        {
            if (!inputs.TryGetValue(info.Name, out var t))
                throw new ArgumentException($"'{_source}' needs input '{info.Name}'.", nameof(inputs));
            CheckInputShape(info, t);
            values[info.Name] = t;
        }
        try
        {
            using var _ = no_grad();
            for (int i = 0; i < _nodes.Count; i++)
            {
                var node = _nodes[i];
                if (TryInPlace(node, i, values, owned)) continue;
                var results = Evaluate(node, name => Lookup(values, name, node));
                if (results.Length != node.Outputs.Count)
                    throw new InvalidOperationException($"'{_source}': {node} produced {results.Length} outputs for {node.Outputs.Count} names.");
                for (int k = 0; k < results.Length; k++)
                {
                    values[node.Outputs[k]] = results[k];
                    owned.Add(node.Outputs[k]);
                }
                foreach (var input in node.Inputs.Distinct())
                {
                    if (owned.Contains(input) && _lastUse.TryGetValue(input, out int last) && last == i)
                    {
                        values[input].Dispose();
                        values.Remove(input);
                        owned.Remove(input);
                    }
                }
            }
            var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var o in _graph.Outputs)
            {
                var t = Lookup(values, o.Name, null);
                // An output that is a graph input or a weight is copied, so the caller may dispose it freely.
                outputs[o.Name] = owned.Remove(o.Name) ? t : t.clone();
            }
            return outputs;
        }
        finally
        {
            foreach (var name in owned) values[name].Dispose();
        }
    }

    /// <summary>
    /// Runs Relu, and Add of two equal shapes, in place on an input this run owns and no later node reads: the output
    /// takes over the input's memory. Saves an allocation (and, for large activations, the page faults of a fresh
    /// mapping) per element-wise layer; the arithmetic is the same.
    /// </summary>
    private bool TryInPlace(OnnxNode node, int index, Dictionary<string, Tensor> values, HashSet<string> owned)
    {
        if (node.OpType is not ("Relu" or "Add") || node.Outputs.Count != 1 || node.Inputs.Count != (node.OpType == "Relu" ? 1 : 2)) return false;
        string target = node.Inputs[0];
        bool Reusable(string name) => owned.Contains(name) && _lastUse.GetValueOrDefault(name) == index && node.Inputs.Count(n => n == name) == 1;
        if (node.OpType == "Add" && !Reusable(target) && Reusable(node.Inputs[1])) target = node.Inputs[1];
        if (!Reusable(target)) return false;
        var x = values[target];
        if (node.OpType == "Relu")
        {
            x.relu_();
        }
        else
        {
            string other = target == node.Inputs[0] ? node.Inputs[1] : node.Inputs[0];
            var y = Lookup(values, other, node);
            if (!x.shape.SequenceEqual(y.shape)) return false;
            x.add_(y);
            if (owned.Contains(other) && _lastUse.GetValueOrDefault(other) == index)
            {
                y.Dispose();
                values.Remove(other);
                owned.Remove(other);
            }
        }
        values.Remove(target);
        owned.Remove(target);
        values[node.Outputs[0]] = x;
        owned.Add(node.Outputs[0]);
        return true;
    }

    /// <summary>Frees the weights.</summary>
    public void Dispose()
    {
        foreach (var w in _weights.Values) w.Dispose();
        _weights.Clear();
    }

    /// <summary>
    /// Folds each inference-mode BatchNormalization that alone reads a Conv's output into that Conv's weights and bias
    /// (w' = w·s, b' = (b − mean)·s + β with s = γ / √(var + ε), computed in float64): one pass over the activations
    /// fewer per layer. The result equals the unfolded graph to float32 rounding.
    /// </summary>
    private static List<OnnxNode> FoldBatchNorms(OnnxGraph graph, Dictionary<string, OnnxTensor> initializers)
    {
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs) readers[input] = readers.GetValueOrDefault(input) + 1;
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Nodes.Count; i++)
            foreach (var o in graph.Nodes[i].Outputs) producer[o] = i;

        var nodes = graph.Nodes.ToList();
        var removed = new HashSet<int>();
        for (int j = 0; j < nodes.Count; j++)
        {
            var bn = nodes[j];
            if (bn.OpType != "BatchNormalization" || bn.Int("spatial", 1) != 1 || bn.Inputs.Count != 5 || bn.Outputs.Count != 1) continue;
            if (!producer.TryGetValue(bn.Inputs[0], out int i) || nodes[i].OpType != "Conv") continue;
            var conv = nodes[i];
            if (readers.GetValueOrDefault(bn.Inputs[0]) != 1 || outputs.Contains(bn.Inputs[0]) || conv.Outputs.Count != 1) continue;
            if (!initializers.TryGetValue(conv.Inputs[1], out var w)) continue;
            OnnxTensor? b = conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 ? initializers.GetValueOrDefault(conv.Inputs[2]) : null;
            if (conv.Inputs.Count > 2 && conv.Inputs[2].Length > 0 && b is null) continue;
            var p = new OnnxTensor?[4];
            for (int k = 0; k < 4; k++) p[k] = initializers.GetValueOrDefault(bn.Inputs[1 + k]);
            if (p.Any(t => t is null)) continue;
            long outChannels = w.Dims[0];
            if (p.Any(t => t!.Data.Length != outChannels) || (b is not null && b.Data.Length != outChannels)) continue;

            double eps = bn.Float("epsilon", 1e-5f);
            int per = (int)(w.Data.Length / outChannels);
            var folded = new float[w.Data.Length];
            var bias = new float[outChannels];
            for (int c = 0; c < outChannels; c++)
            {
                double scale = p[0]!.Data[c] / Math.Sqrt(p[3]!.Data[c] + eps);
                for (int k = 0; k < per; k++) folded[c * per + k] = (float)(w.Data[c * per + k] * scale);
                bias[c] = (float)(((b?.Data[c] ?? 0) - p[2]!.Data[c]) * scale + p[1]!.Data[c]);
            }
            string wName = $"{conv.Inputs[1]}#folded:{bn.Name}", bName = $"{bn.Name}#folded_bias";
            initializers[wName] = new OnnxTensor(wName, w.Dims, folded);
            initializers[bName] = new OnnxTensor(bName, [outChannels], bias);
            nodes[i] = conv with { Inputs = [conv.Inputs[0], wName, bName], Outputs = [bn.Outputs[0]] };
            removed.Add(j);
        }
        return nodes.Where((_, k) => !removed.Contains(k)).ToList();
    }

    private void CheckInputShape(OnnxValueInfo info, Tensor t)
    {
        if (info.Shape.Length == 0) return;
        if (t.dim() != info.Shape.Length)
            throw new ArgumentException($"'{_source}' input '{info.Name}' needs {info.Shape.Length} dimensions [{string.Join(",", info.Shape)}]; got [{string.Join(",", t.shape)}].");
        // Dimension 0 is the batch: any size runs.
        for (int d = 1; d < info.Shape.Length; d++)
        {
            if (info.Shape[d] > 0 && info.Shape[d] != t.shape[d])
                throw new ArgumentException($"'{_source}' input '{info.Name}' needs shape [N,{string.Join(",", info.Shape.Skip(1))}]; got [{string.Join(",", t.shape)}].");
        }
    }

    private Tensor Lookup(Dictionary<string, Tensor> values, string name, OnnxNode? node)
    {
        if (values.TryGetValue(name, out var t)) return t;
        if (_weights.TryGetValue(name, out t)) return t;
        throw new InvalidDataException($"'{_source}': {(node is null ? "a graph output" : node.ToString())} reads '{name}', which no earlier node, input or initializer defines.");
    }

    private Tensor[] Evaluate(OnnxNode node, Func<string, Tensor> get)
    {
        Tensor In(int k)
        {
            if (k >= node.Inputs.Count || node.Inputs[k].Length == 0)
                throw new InvalidDataException($"'{_source}': {node} lacks input {k}.");
            return get(node.Inputs[k]);
        }

        switch (node.OpType)
        {
            case "Identity":
                return [In(0).alias()];
            case "Relu":
                return [F.relu(In(0))];
            case "Add":
                return [In(0) + In(1)];
            case "Sub":
                return [In(0) - In(1)];
            case "Flatten":
            {
                long axis = node.Int("axis", 1);
                var x = In(0);
                if (axis < 0) axis += x.dim();
                long outer = 1;
                for (int d = 0; d < axis; d++) outer *= x.shape[d];
                return [x.reshape(outer, -1)];
            }
            case "Concat":
                return [cat(node.Inputs.Select(get).ToArray(), node.Int("axis", 0))];
            case "Split":
            {
                var x = In(0);
                long axis = node.Int("axis", 0);
                var split = node.Ints("split") ?? Enumerable.Repeat(x.shape[axis] / node.Outputs.Count, node.Outputs.Count).ToArray();
                if (split.Sum() != x.shape[axis])
                    throw new InvalidDataException($"'{_source}': {node} splits an axis of {x.shape[axis]} into [{string.Join(",", split)}].");
                // Contiguous copies: later operators then see ordinary tensors, not strided views of the input.
                return x.split(split, axis).Select(s => s.contiguous()).ToArray();
            }
            case "BatchNormalization":
            {
                if (node.Int("spatial", 1) != 1)
                    throw new NotSupportedException($"'{_source}': {node} uses spatial=0 batch normalisation, which is not supported.");
                return [F.batch_norm(In(0), In(3), In(4), In(1), In(2), training: false, momentum: 0, eps: node.Float("epsilon", 1e-5f))];
            }
            case "Conv":
                return [Conv(node, In(0), In(1), node.Inputs.Count > 2 && node.Inputs[2].Length > 0 ? In(2) : null)];
            case "MaxPool":
                return [Pool(node, In(0), max: true)];
            case "AveragePool":
                return [Pool(node, In(0), max: false)];
            case "GlobalAveragePool":
                return [In(0).mean([2, 3], keepdim: true)];
            default:
                throw new NotSupportedException($"'{_source}': {node} is not supported.");
        }
    }

    private Tensor Conv(OnnxNode node, Tensor x, Tensor w, Tensor? b)
    {
        var kernel = node.Ints("kernel_shape") ?? [w.shape[2], w.shape[3]];
        var strides = node.Ints("strides") ?? [1, 1];
        var dilations = node.Ints("dilations") ?? [1, 1];
        var pads = Pads(node, x, kernel, strides, dilations);
        long groups = node.Int("group", 1);
        if (pads[0] == pads[2] && pads[1] == pads[3])
            return F.conv2d(x, w, b, strides, [pads[0], pads[1]], dilations, groups);
        // Asymmetric padding (CNTK exports begin 1 / end 0 for stride-2 layers): pad explicitly with zeros.
        using var padded = F.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, 0);
        return F.conv2d(padded, w, b, strides, [0, 0], dilations, groups);
    }

    private Tensor Pool(OnnxNode node, Tensor x, bool max)
    {
        var kernel = node.Ints("kernel_shape") ?? throw new InvalidDataException($"'{_source}': {node} has no kernel_shape.");
        var strides = node.Ints("strides") ?? [1, 1];
        var pads = Pads(node, x, kernel, strides, [1, 1]);
        if (node.Int("ceil_mode", 0) != 0)
            throw new NotSupportedException($"'{_source}': {node} uses ceil_mode, which is not supported.");
        bool symmetric = pads[0] == pads[2] && pads[1] == pads[3];
        if (max)
        {
            // ONNX ignores padded cells; torch's implicit padding does the same (−∞) but only when symmetric and at most half the kernel.
            if (symmetric && pads[0] <= kernel[0] / 2 && pads[1] <= kernel[1] / 2)
                return F.max_pool2d(x, kernel, strides, [pads[0], pads[1]]);
            using var padded = F.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, double.NegativeInfinity);
            return F.max_pool2d(padded, kernel, strides);
        }
        bool includePad = node.Int("count_include_pad", 0) != 0;
        if (pads.All(p => p == 0)) return F.avg_pool2d(x, kernel, strides);
        if (symmetric && pads[0] <= kernel[0] / 2 && pads[1] <= kernel[1] / 2)
            return F.avg_pool2d(x, kernel, strides, [pads[0], pads[1]], count_include_pad: includePad);
        if (!includePad)
            throw new NotSupportedException($"'{_source}': {node} averages over asymmetric padding without counting it, which is not supported.");
        using var zeroPadded = F.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, 0);
        return F.avg_pool2d(zeroPadded, kernel, strides);
    }

    /// <summary>The pads [top, left, bottom, right] of a 2-D window operator, resolving auto_pad.</summary>
    private long[] Pads(OnnxNode node, Tensor x, long[] kernel, long[] strides, long[] dilations)
    {
        if (kernel.Length != 2 || strides.Length != 2 || dilations.Length != 2)
            throw new NotSupportedException($"'{_source}': {node} is not a 2-D operator (kernel [{string.Join(",", kernel)}]).");
        string autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                var pads = node.Ints("pads") ?? [0, 0, 0, 0];
                if (pads.Length != 4 || pads.Any(p => p < 0))
                    throw new InvalidDataException($"'{_source}': {node} has pads [{string.Join(",", pads)}]; expected 4 non-negative values.");
                return pads;
            case "VALID":
                return [0, 0, 0, 0];
            case "SAME_UPPER" or "SAME_LOWER":
            {
                var result = new long[4];
                for (int d = 0; d < 2; d++)
                {
                    long size = x.shape[2 + d];
                    long outSize = (size + strides[d] - 1) / strides[d];
                    long total = Math.Max(0, (outSize - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - size);
                    long small = total / 2, large = total - small;
                    result[d] = autoPad == "SAME_UPPER" ? small : large;
                    result[d + 2] = autoPad == "SAME_UPPER" ? large : small;
                }
                return result;
            }
            default:
                throw new InvalidDataException($"'{_source}': {node} has unknown auto_pad '{autoPad}'.");
        }
    }
}
