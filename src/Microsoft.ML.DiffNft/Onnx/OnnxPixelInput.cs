namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// The image input of the exported networks: float [N, 3, S, S], RGB planes with values 0 … 255 — what ML.NET's
/// <c>ExtractPixels</c> gives with its defaults (planar, red-green-blue, offset 0, scale 1) — mapped in the graph to the
/// package's [−1, 1] pixel scale (<see cref="Imaging.ImageTensors"/>) and standardised per channel.
/// </summary>
internal static class OnnxPixelInput
{
    /// <summary>Declares the input <paramref name="name"/> and returns (x / 127.5 − 1 − mean) / std per channel.</summary>
    public static string Standardised(OnnxGraphBuilder g, string name, int size, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        var x = g.Input(name, -1, 3, size, size);
        // The same operations in the same order as ImageTensors.ToTensor (div, sub) and the standardisation (sub, div).
        x = g.Node("Sub", [g.Node("Div", [x, g.Scalar(127.5f)]), g.Scalar(1f)]);
        x = g.Node("Sub", [x, g.Weight("pixel_mean", [1, 3, 1, 1], mean.ToArray())]);
        return g.Node("Div", [x, g.Weight("pixel_std", [1, 3, 1, 1], std.ToArray())]);
    }
}
