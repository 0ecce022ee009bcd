using A = Microsoft.ML.DiffNft.Onnx.OnnxGraphBuilder.Attribute;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// torch layers written as opset-17 ONNX operators, with the weights of the layer named <c>prefix</c> taken from
/// <see cref="OnnxNetworkWeights"/> (<c>prefix.weight</c>, <c>prefix.bias</c>).
/// </summary>
internal static class OnnxLayers
{
    /// <summary>A 2-D convolution with square kernel, stride and padding.</summary>
    public static string Conv(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x, int kernel, int stride, int padding) =>
        g.Node("Conv", [x, w.Take(g, prefix + ".weight"), w.Take(g, prefix + ".bias")],
            A.Ints("kernel_shape", kernel, kernel), A.Ints("strides", stride, stride), A.Ints("pads", padding, padding, padding, padding));

    /// <summary>nn.Linear on [.., in]: x · Wᵀ + b, with Wᵀ stored transposed so the graph needs no Transpose.</summary>
    public static string Linear(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x) =>
        g.Node("Add", [g.Node("MatMul", [x, w.TakeTransposed(g, prefix + ".weight")]), w.Take(g, prefix + ".bias")]);

    /// <summary>nn.Linear on [N, in] as one Gemm.</summary>
    public static string Dense(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x) =>
        g.Node("Gemm", [x, w.Take(g, prefix + ".weight"), w.Take(g, prefix + ".bias")], A.Int("transB", 1));

    /// <summary>nn.LayerNorm over the last axis with torch's default ε = 1e-5.</summary>
    public static string LayerNorm(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x) =>
        g.Node("LayerNormalization", [x, w.Take(g, prefix + ".weight"), w.Take(g, prefix + ".bias")], A.Int("axis", -1), A.Float("epsilon", 1e-5f));

    /// <summary>
    /// nn.GroupNorm(groups, C) on [N, C, H, W] with torch's default ε = 1e-5, from primitive operators: opset 17 has no
    /// GroupNormalization, and opset 18's version scales per group where torch scales per channel.
    /// </summary>
    public static string GroupNorm(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x, int groups, int channels)
    {
        var grouped = g.Node("Reshape", [x, g.Int64s(0, groups, -1)]);
        var centred = g.Node("Sub", [grouped, g.Node("ReduceMean", [grouped], A.Ints("axes", 2), A.Int("keepdims", 1))]);
        var variance = g.Node("ReduceMean", [g.Node("Mul", [centred, centred])], A.Ints("axes", 2), A.Int("keepdims", 1));
        var normalised = g.Node("Div", [centred, g.Node("Sqrt", [g.Node("Add", [variance, g.Scalar(1e-5f)])])]);
        var back = g.Node("Reshape", [normalised, g.Node("Shape", [x])]);
        var gamma = g.Node("Reshape", [w.Take(g, prefix + ".weight"), g.Int64s(1, channels, 1, 1)]);
        var beta = g.Node("Reshape", [w.Take(g, prefix + ".bias"), g.Int64s(1, channels, 1, 1)]);
        return g.Node("Add", [g.Node("Mul", [back, gamma]), beta]);
    }

    /// <summary>torch's default (exact) GELU: x · ½ (1 + erf(x / √2)). Opset 17 has no Gelu operator.</summary>
    public static string Gelu(OnnxGraphBuilder g, string x)
    {
        var erf = g.Node("Erf", [g.Node("Div", [x, g.Scalar(MathF.Sqrt(2f))])]);
        return g.Node("Mul", [g.Node("Mul", [x, g.Node("Add", [erf, g.Scalar(1f)])]), g.Scalar(0.5f)]);
    }

    /// <summary>SiLU: x · σ(x).</summary>
    public static string Silu(OnnxGraphBuilder g, string x) => g.Node("Mul", [x, g.Node("Sigmoid", [x])]);
}
