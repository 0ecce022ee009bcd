using Microsoft.ML.DiffNft.TraitClassification;
using A = Microsoft.ML.DiffNft.Onnx.OnnxGraphBuilder.Attribute;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Writes a <see cref="TraitClassifier"/> as a standard ONNX graph (opset 17) with its trained weights. Input: the
/// pixels of <see cref="OnnxPixelInput"/> at the classifier's side S. Outputs: every head's logits side by side
/// [N, Σ classes] and every head's softmax probabilities side by side [N, Σ classes], heads in
/// <see cref="TraitClassifier.Heads"/> order, class 0 of each head being "trait missing".
/// </summary>
internal static class TraitClassifierOnnxExporter
{
    /// <summary>Builds the graph of <paramref name="classifier"/>; the network is that of <see cref="TraitClassifierNetwork"/>.</summary>
    public static OnnxModel Build(TraitClassifier classifier, string pixels, string logitsName, string probabilitiesName)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var a = classifier.Architecture;
        var weights = OnnxNetworkWeights.From(classifier.Network);
        var g = new OnnxGraphBuilder();
        var h = OnnxPixelInput.Standardised(g, pixels, a.ImageSize, classifier.PixelMean, classifier.PixelStd);

        // Three stages of two 3×3 convolutions (the first of stages 2 and 3 with stride 2), then a stride-2 convolution;
        // GroupNorm and SiLU after each, as TraitClassifierNetwork builds them.
        int w = a.Width;
        foreach (var (name, channels, stride) in new[] { ("conv1a", w, 1), ("conv1b", w, 1), ("conv2a", 2 * w, 2), ("conv2b", 2 * w, 1),
            ("conv3a", 4 * w, 2), ("conv3b", 4 * w, 1), ("conv4", 4 * w, 2) })
        {
            h = OnnxLayers.Conv(g, weights, $"features.{name}", h, 3, stride, 1);
            h = OnnxLayers.GroupNorm(g, weights, $"features.{name}_norm", h, TraitClassifierNetwork.Groups(channels), channels);
            h = OnnxLayers.Silu(g, h);
        }
        h = g.Node("Flatten", [h], A.Int("axis", 1));
        var logits = OnnxLayers.Dense(g, weights, "heads", OnnxLayers.Silu(g, OnnxLayers.Dense(g, weights, "hidden", h)));

        // Softmax within each head's block of classes.
        var heads = classifier.Heads;
        var probabilities = heads.Count == 1
            ? g.Node("Softmax", [logits], A.Int("axis", 1))
            : g.Node("Concat", g.Node("Split", [logits, g.Int64s(heads.Select(x => (long)x.ClassCount).ToArray())], heads.Count, A.Int("axis", 1))
                .Select(part => g.Node("Softmax", [part], A.Int("axis", 1))).ToArray(), A.Int("axis", 1));
        int total = heads.Sum(x => x.ClassCount);
        g.Output(logitsName, logits, -1, total);
        g.Output(probabilitiesName, probabilities, -1, total);
        weights.CheckAllUsed();
        var version = typeof(TraitClassifierOnnxExporter).Assembly.GetName().Version?.ToString() ?? "";
        return g.Build("trait_classifier", "Microsoft.ML.DiffNft", version, RarityRewardOnnxExporter.Opset);
    }
}
