using DiffNft.Cli;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Cli;

/// <summary>
/// <c>diffnft generate</c>, <c>finetune</c> and <c>bench sd</c> on the tiny diffusers folder (64×64 images, random
/// weights): the same output layout and rules as for the package's own models, LoRA adapters in and out, and clear
/// one-line errors for what Stable Diffusion does not support.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public class StableDiffusionCliTests(ITestOutputHelper output)
{
    private static string Tiny => Path.Combine(RepositoryPaths.Root, "tests", "data", "stable-diffusion", "tiny");

    private static string GoldenLora => Path.Combine(RepositoryPaths.Root, "tests", "data", "stable-diffusion", "golden", "lora", "pytorch_lora_weights.safetensors");

    private static string RewardModel => Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward");

    private (int Code, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        output.WriteLine($"diffnft {string.Join(' ', args)} → {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static byte[][] Pixels(string folder, int count) =>
        Enumerable.Range(0, count).Select(i => PngCodec.Load(Path.Combine(folder, "images", $"{i}.png")).Pixels).ToArray();

    [Fact]
    public void GenerateWritesTheSameLayoutForADiffusersFolderAndALoraChangesTheImages()
    {
        using var dir = new TempDir();
        string plain = Path.Combine(dir.Path, "plain"), adapted = Path.Combine(dir.Path, "lora"), again = Path.Combine(dir.Path, "again");
        string[] Args(string outDir) => ["generate", "--model", Tiny, "--prompt", "a pixel ape", "--count", "4", "--steps", "2", "--device", "cpu", "--out", outDir];

        var (code, stdout, stderr) = Cli(Args(plain));
        Assert.Equal(0, code);
        Assert.Contains("generated 4/4", stderr);
        Assert.Contains(Path.Combine(plain, "grid.png"), stdout);
        for (int i = 0; i < 4; i++)
        {
            var image = PngCodec.Load(Path.Combine(plain, "images", $"{i}.png"));
            Assert.Equal((64, 64), (image.Width, image.Height));
        }
        Assert.False(File.Exists(Path.Combine(plain, "images", "4.png")));
        Assert.True(File.Exists(Path.Combine(plain, "grid.png")));
        // Seed semantics as for the package's models: image i uses seed + i, so the four differ and a rerun repeats them.
        var first = Pixels(plain, 4);
        Assert.Equal(4, first.Select(Convert.ToHexString).Distinct().Count());
        Assert.Equal(0, Cli(Args(again)).Code);
        Assert.Equal(first, Pixels(again, 4));

        (code, _, _) = Cli([.. Args(adapted), "--lora", GoldenLora]);
        Assert.Equal(0, code);
        var withLora = Pixels(adapted, 4);
        for (int i = 0; i < 4; i++) Assert.NotEqual(first[i], withLora[i]);
    }

    [Fact]
    public void GenerateRejectsABadLoraFileInOneLineWithoutTouchingTheOutput()
    {
        using var dir = new TempDir();
        string bad = Path.Combine(dir.Path, "bad.safetensors");
        File.WriteAllText(bad, "not a safetensors file");
        string outDir = Path.Combine(dir.Path, "out");
        var (code, _, stderr) = Cli("generate", "--model", Tiny, "--count", "1", "--steps", "2", "--device", "cpu", "--lora", bad, "--out", outDir);
        Assert.Equal(1, code);
        Assert.StartsWith("diffnft: error:", stderr);
        Assert.Contains(bad, stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(outDir));

        // The diffusers-only options are refused for a package model file, and a folder that is no pipeline is named.
        string package = Path.Combine(RepositoryPaths.Root, "models", "builtin", "base.diffnft");
        (code, _, stderr) = Cli("generate", "--model", package, "--lora", GoldenLora, "--count", "1", "--out", outDir);
        Assert.Equal(1, code);
        Assert.Contains("--lora applies to diffusers", stderr);
        (code, _, stderr) = Cli("generate", "--model", dir.Path, "--count", "1", "--out", outDir);
        Assert.Equal(1, code);
        Assert.Contains("model_index.json", stderr);
    }

    [Fact]
    public void FinetuneWritesALoraFileThatLoadsAndResumes()
    {
        using var dir = new TempDir();
        string tiny = Parity.ReferenceGoldens.TinyWithStepsOffset1(dir.Path);
        string outDir = Path.Combine(dir.Path, "tuned");
        string[] Args(int iterations) =>
        [
            "finetune", "--base", tiny, "--reward", RewardModel, "--prompt", "a pixel ape", "--iterations", iterations.ToString(),
            "--prompts-per-iteration", "1", "--images-per-prompt", "2", "--steps", "2", "--train-batch", "2", "--sample-every", "1",
            "--device", "cpu", "--out", outDir,
        ];
        var (code, stdout, stderr) = Cli(Args(1));
        Assert.Equal(0, code);
        string adapter = Path.Combine(outDir, "lora.safetensors");
        Assert.Contains(adapter, stdout);
        Assert.Contains("iter 1/1", stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "finetune.ckpt")));
        Assert.True(File.Exists(Path.Combine(outDir, "samples", "grid-00001.png")));
        var log = File.ReadAllLines(Path.Combine(outDir, "log.csv"));
        Assert.Equal(2, log.Length);
        Assert.Contains("reward_rarity", log[0]);

        // Diffusers' layout, attention projections only: 6 transformer blocks × 2 attentions × 4 projections, down and up each.
        var layers = DiffusersLoraFile.Read(adapter);
        try
        {
            Assert.Equal(48, layers.Count);
            Assert.All(layers.Keys, k => Assert.Matches(@"\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$", k));
            Assert.All(layers.Values, l => Assert.Equal(4, l.Down.shape[0]));
        }
        finally
        {
            foreach (var (d, u) in layers.Values) { d.Dispose(); u.Dispose(); }
        }
        using (var model = StableDiffusionLoader.Load(tiny, new StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu }))
        using (var attached = DiffusersLoraFile.Attach(model, adapter))
            Assert.Equal(48, attached.LayerCount);

        // A rerun with a larger budget resumes from the checkpoint in the folder: one more iteration.
        (code, _, stderr) = Cli(Args(2));
        Assert.Equal(0, code);
        Assert.Contains("iter 2/2", stderr);
        Assert.DoesNotContain("iter 1/2", stderr);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(outDir, "log.csv")).Length);
    }

    [Fact]
    public void FinetuneRefusesWhatStableDiffusionCannotDoBeforeLoadingAnything()
    {
        using var dir = new TempDir();
        string outDir = Path.Combine(dir.Path, "tuned");
        (string[] Extra, string Expected)[] cases =
        [
            (["--reward", RewardModel, "--lora-rank", "0"], "LoRA only"),
            (["--reward", RewardModel, "--fidelity-weight", "0.5"], "not available for Stable Diffusion"),
            (["--reward", "builtin:fidelity"], "not available for Stable Diffusion"),
        ];
        foreach (var (extra, expected) in cases)
        {
            var (code, _, stderr) = Cli(["finetune", "--base", Tiny, .. extra, "--out", outDir]);
            Assert.Equal(1, code);
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void BenchSdTinyEndsWithTheThroughputLine()
    {
        var (code, stdout, _) = Cli("bench", "sd", "--config", "tiny", "--device", "cpu", "--steps", "2", "--batch", "2");
        Assert.Equal(0, code);
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("sd tiny cpu float32 64px steps=2 batch=2:", last);
        foreach (string key in new[] { "images_per_s", "trajectories_per_s", "peak_memory_mib" })
        {
            var match = System.Text.RegularExpressions.Regex.Match(last, key + @"=([0-9.eE+-]+)");
            Assert.True(match.Success, $"'{key}=' missing from '{last}'");
            double value = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(value > 0 && double.IsFinite(value), $"{key} = {value}");
        }
        Assert.Contains("LoRA rank 4 on the UNet's attention: 48 layers", stdout);
    }
}
