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

    /// <summary>
    /// Copies the tiny folder into <paramref name="dir"/> with its scheduler's leading timesteps offset by 1, as Stable
    /// Diffusion's own configs do: with the tiny folder's offset 0 (diffusers' test config) the last DDIM step is
    /// deterministic (σ = 0) and PPO has nothing to train there. Returns the copy's path.
    /// </summary>
    public static string TinyWithStepsOffset1(string dir)
    {
        string copy = Path.Combine(dir, "tiny");
        foreach (string file in Directory.EnumerateFiles(TinyFolder, "*", SearchOption.AllDirectories))
        {
            if (file.Contains(".fp16.", StringComparison.Ordinal)) continue;
            string target = Path.Combine(copy, Path.GetRelativePath(TinyFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        string scheduler = Path.Combine(copy, "scheduler", "scheduler_config.json");
        string text = File.ReadAllText(scheduler);
        Assert.Contains("\"steps_offset\": 0", text);
        File.WriteAllText(scheduler, text.Replace("\"steps_offset\": 0", "\"steps_offset\": 1", StringComparison.Ordinal));
        return copy;
    }

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
