using Microsoft.ML.DiffNft.Reward;
using A = Microsoft.ML.DiffNft.Onnx.OnnxGraphBuilder.Attribute;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Writes a <see cref="RarityRewardModel"/> as a standard ONNX graph (opset 17) with its trained weights, so the reward
/// runs without libtorch — in ONNX Runtime, and in ML.NET through <c>ApplyOnnxModel</c>.
/// </summary>
/// <remarks>
/// <para>Input: float [N, 3, S, S], RGB planes with values 0 … 255 — exactly what ML.NET's <c>ExtractPixels</c> gives
/// with its defaults (red, green, blue planes in that order, not interleaved, offset 0, scale 1), at the model's input
/// side S. The graph then does what <see cref="RarityRewardModel.Forward"/> does after decoding: x / 127.5 − 1 (the
/// [−1, 1] scale of <c>ImageTensors</c>), the per-channel standardisation of <see cref="RewardPreprocessing.Prepare"/>,
/// the ViT, both heads and the calibration of the rare logit. Resizing is left out: images must already be S×S
/// (antialiased bilinear resampling has no exact ONNX equivalent in ONNX Runtime's opset-17 Resize).</para>
/// <para>Outputs: the reward [N] of the requested kind, the calibrated rare probability [N] and the embedding
/// [N, Dim], named like the scorer's columns.</para>
/// <para>The weights are read by their <c>state_dict</c> names, so a change to the network's modules fails here
/// loudly (a missing name) rather than exporting a different network.</para>
/// </remarks>
internal static class RarityRewardOnnxExporter
{
    /// <summary>The ONNX opset the graph uses (LayerNormalization needs 17).</summary>
    public const int Opset = 17;

    /// <summary>Builds the graph of <paramref name="model"/>.</summary>
    public static OnnxModel Build(RarityRewardModel model, RarityRewardKind kind, string pixels, string reward, string probability, string embedding)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = model.Options;
        var n = model.Normalization;
        var weights = OnnxNetworkWeights.From(model.Network);
        var g = new OnnxGraphBuilder();
        int s = o.ImageSize, d = o.Dim;

        // Pixels 0 … 255 → standardised, as ImageTensors.ToTensor and RewardPreprocessing.Prepare do it.
        var x = OnnxPixelInput.Standardised(g, pixels, s, n.PixelMean, n.PixelStd);

        // Patch embedding: one P×P convolution of stride P, or the convolutional stem (3×3, stride 2, GELU between).
        var h = x;
        int convs = o.PatchEmbedding == VitPatchEmbedding.Linear ? 1 : o.StemLayers;
        for (int i = 0; i < convs; i++)
        {
            string prefix = $"backbone.patchEmbedding.convs.{i}";
            h = o.PatchEmbedding == VitPatchEmbedding.Linear
                ? OnnxLayers.Conv(g, weights, prefix, h, o.PatchSize, o.PatchSize, 0)
                : OnnxLayers.Conv(g, weights, prefix, h, 3, 2, 1);
            if (i < convs - 1) h = OnnxLayers.Gelu(g, h);
        }
        // [N, D, G, G] → [N, T, D]
        h = g.Node("Transpose", [g.Node("Reshape", [h, g.Int64s(0, 0, -1)])], A.Ints("perm", 0, 2, 1));
        if (o.Pooling == VitPooling.ClassToken)
        {
            // The class token [1, 1, D] expanded to [N, 1, D] (N read from the input) and put first.
            var batch = g.Node("Slice", [g.Node("Shape", [h]), g.Int64s(0), g.Int64s(1)]);
            var shape = g.Node("Concat", [batch, g.Int64s(1, d)], A.Int("axis", 0));
            var token = g.Node("Expand", [weights.Take(g, "backbone.classToken"), shape]);
            h = g.Node("Concat", [token, h], A.Int("axis", 1));
        }
        h = g.Node("Add", [h, weights.Take(g, "backbone.positionEmbedding")]);
        for (int b = 0; b < o.Depth; b++) h = Block(g, weights, $"backbone.blocks.{b}", h, d, o.Heads);
        h = OnnxLayers.LayerNorm(g, weights, "backbone.finalNorm", h);
        var pooled = o.Pooling == VitPooling.ClassToken
            ? g.Node("Gather", [h, g.Int64(0)], A.Int("axis", 1))
            : g.Node("ReduceMean", [h], A.Ints("axes", 1), A.Int("keepdims", 0));

        // The heads: [N, D] → [N]; the rare logit is calibrated by the model's offset, as in RarityRewardModel.
        var score = Head(g, weights, "scoreHead", pooled);
        var logit = g.Node("Add", [Head(g, weights, "rareHead", pooled), g.Scalar((float)n.RareLogitOffset)]);
        var rewardValue = kind switch
        {
            RarityRewardKind.ZScore => score,
            RarityRewardKind.RareLogit => logit,
            // log σ(l) = −softplus(−l), the numerically stable form (as torch's logsigmoid).
            RarityRewardKind.RareLogProbability => g.Node("Neg", [g.Node("Softplus", [g.Node("Neg", [logit])])]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown reward kind."),
        };
        g.Output(reward, rewardValue, -1);
        g.Output(probability, g.Node("Sigmoid", [logit]), -1);
        g.Output(embedding, pooled, -1, d);
        weights.CheckAllUsed();
        var version = typeof(RarityRewardOnnxExporter).Assembly.GetName().Version?.ToString() ?? "";
        return g.Build("rarity_reward", "Microsoft.ML.DiffNft", version, Opset);
    }

    /// <summary>A pre-LN transformer block: x + attention(LN(x)), then x + MLP(LN(x)) (see Diffusion/Modules/TextEncoder.cs).</summary>
    private static string Block(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x, int dim, int heads)
    {
        int head = dim / heads;
        var qkv = OnnxLayers.Linear(g, w, prefix + ".qkv", OnnxLayers.LayerNorm(g, w, prefix + ".norm1", x));
        var parts = g.Node("Split", [qkv, g.Int64s(dim, dim, dim)], 3, A.Int("axis", -1));
        // [N, T, D] → [N, T, H, D/H] → [N, H, T, D/H] (keys: [N, H, D/H, T], ready for MatMul).
        string Heads(string t, params long[] perm) => g.Node("Transpose", [g.Node("Reshape", [t, g.Int64s(0, 0, heads, head)])], A.Ints("perm", perm));
        var q = Heads(parts[0], 0, 2, 1, 3);
        var k = Heads(parts[1], 0, 2, 3, 1);
        var v = Heads(parts[2], 0, 2, 1, 3);
        // Scaled dot-product attention, as torch's scaled_dot_product_attention without a mask: softmax(q·kᵀ / √d) · v.
        var scores = g.Node("Mul", [g.Node("MatMul", [q, k]), g.Scalar((float)(1 / Math.Sqrt(head)))]);
        var attention = g.Node("MatMul", [g.Node("Softmax", [scores], A.Int("axis", -1)), v]);
        var merged = g.Node("Reshape", [g.Node("Transpose", [attention], A.Ints("perm", 0, 2, 1, 3)), g.Int64s(0, 0, dim)]);
        x = g.Node("Add", [x, OnnxLayers.Linear(g, w, prefix + ".proj", merged)]);
        var mlp = OnnxLayers.Linear(g, w, prefix + ".fc2", OnnxLayers.Gelu(g, OnnxLayers.Linear(g, w, prefix + ".fc1", OnnxLayers.LayerNorm(g, w, prefix + ".norm2", x))));
        return g.Node("Add", [x, mlp]);
    }

    /// <summary>A linear head [N, D] → [N, 1] → [N].</summary>
    private static string Head(OnnxGraphBuilder g, OnnxNetworkWeights w, string prefix, string x) =>
        g.Node("Reshape", [OnnxLayers.Dense(g, w, prefix, x), g.Int64s(-1)]);
}
