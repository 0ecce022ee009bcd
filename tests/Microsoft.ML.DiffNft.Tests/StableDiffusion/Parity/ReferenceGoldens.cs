using Xunit;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>
/// The golden files of tests/data/stable-diffusion, written by the reference implementations themselves (diffusers
/// 0.21.4 and transformers, run by scripts/stable-diffusion-reference/make_goldens.py).
/// </summary>
internal static class ReferenceGoldens
{
    /// <summary>tests/data/stable-diffusion.</summary>
    public static string Root => Path.Combine(RepositoryPaths.Root, "tests", "data", "stable-diffusion");

    /// <summary>The tiny diffusers pipeline folder.</summary>
    public static string TinyFolder => Path.Combine(Root, "tiny");

    /// <summary>A golden file under golden/.</summary>
    public static string Golden(string name) => Path.Combine(Root, "golden", name);

    /// <summary>Every tensor of a golden safetensors file, as CPU tensors (caller disposes).</summary>
    public static Dictionary<string, Tensor> Read(string name) => ModelArchive.LoadTensors(File.ReadAllBytes(Golden(name)), Golden(name));

    /// <summary>The largest absolute difference between two tensors (as float64).</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(b.shape, a.shape);
        using var d = (a.to_type(ScalarType.Float64).cpu() - b.to_type(ScalarType.Float64).cpu()).abs().max();
        return d.item<double>();
    }
}
