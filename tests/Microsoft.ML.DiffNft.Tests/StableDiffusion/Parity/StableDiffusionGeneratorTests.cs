using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>A Stable Diffusion folder as an ML.NET generator: the same transformer, columns and seeds as the package's own model.</summary>
public class StableDiffusionGeneratorTests
{
    private sealed record PromptRow(string Prompt, int Seed);

    private static GeneratorOptions Options => new()
    {
        Device = DiffNftDevice.Cpu,
        Generation = new SamplingOptions { Steps = 2, GuidanceScale = 7.5, BatchSize = 2 },
    };

    private static RgbaImage[] Images(DiffusionGeneratorTransformer generator, MLContext ml, IEnumerable<PromptRow> rows) =>
        generator.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<MLImage>("GeneratedImage").Select(i => i.ToRgbaImage()).ToArray();

    private static int MaxLevelDifference(RgbaImage a, RgbaImage b) => a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void AGeneratorOverADiffusersFolderAddsImagesThatDependOnlyOnPromptAndSeed()
    {
        var ml = new MLContext(seed: 1);
        using var generator = ml.Transforms.DiffNft.LoadStableDiffusionGenerator(ReferenceGoldens.TinyFolder, Options);
        var rows = new[] { new PromptRow("a pixel ape", 7), new PromptRow("a pixel ape with laser eyes", 8), new PromptRow("a pixel ape", 7) };
        var images = Images(generator, ml, rows);
        Assert.Equal(3, images.Length);
        Assert.All(images, i => Assert.Equal((64, 64), (i.Width, i.Height)));
        // Same prompt and seed in another batch (of another size): the same image up to float rounding — matrix products
        // of another batch size may round differently, which can move a pixel by one level; another prompt: another image.
        Assert.InRange(MaxLevelDifference(images[0], images[2]), 0, 1);
        Assert.True(MaxLevelDifference(images[0], images[1]) > 10);
        var single = Images(generator, ml, [rows[0]]);
        Assert.InRange(MaxLevelDifference(images[0], single[0]), 0, 1);
        Assert.Equal(images[2].Pixels, single[0].Pixels); // both generated alone: bit-identical

        // With the reference's LoRA file the UNet differs, and so do the images.
        using var adapted = ml.Transforms.DiffNft.LoadStableDiffusionGenerator(ReferenceGoldens.TinyFolder, Options,
            loraPath: ReferenceGoldens.Golden(Path.Combine("lora", "pytorch_lora_weights.safetensors")));
        Assert.True(MaxLevelDifference(single[0], Images(adapted, ml, [rows[0]])[0]) > 1);

        // It cannot be saved into a DiffNft model file: the message says how to get it back.
        var ex = Assert.Throws<NotSupportedException>(() => generator.Save(Path.Combine(Path.GetTempPath(), "never.diffnft")));
        Assert.Contains("LoadStableDiffusionGenerator", ex.Message);
    }
}

/// <summary>Half-precision compute (the CUDA default) runs on the CPU too: same pipeline, close to the float32 images.</summary>
public class StableDiffusionPrecisionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void BFloat16WeightsGiveImagesCloseToFloat32()
    {
        var precision = Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionPrecision.BFloat16;
        RgbaImage Generate(Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionPrecision p)
        {
            using var model = Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder,
                new Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu, Precision = p });
            Assert.Equal(p == Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionPrecision.Float32 ? TorchSharp.torch.ScalarType.Float32 : TorchSharp.torch.ScalarType.BFloat16,
                model.UNet.parameters().First().dtype);
            return model.Generate(["a pixel ape"], [3], new SamplingOptions { Steps = 2, GuidanceScale = 7.5 })[0];
        }
        var full = Generate(Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionPrecision.Float32);
        var half = Generate(precision);
        double mean = full.Pixels.Zip(half.Pixels, (a, b) => Math.Abs(a - b)).Average();
        output.WriteLine($"{precision}: mean |Δ| per channel value = {mean:F2} levels of 255");
        Assert.InRange(mean, 0, 8);
    }
}

/// <summary>Decoding latents in slices is decoding them together.</summary>
public class VaeDecodeSliceTests
{
    [Fact]
    public void SlicedDecodingEqualsDecodingTheBatchAtOnce()
    {
        using var whole = Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder,
            new Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu, VaeDecodeBatch = 5 });
        using var sliced = Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder,
            new Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu, VaeDecodeBatch = 2 });
        using var noGrad = TorchSharp.torch.no_grad();
        using var gen = new TorchSharp.torch.Generator(4);
        using var latents = TorchSharp.torch.randn([5, 4, 16, 16], generator: gen);
        double diff = ReferenceGoldens.MaxAbsDiff(sliced.ToImages(latents), whole.ToImages(latents));
        Assert.True(diff < 1e-5, $"max |Δ| = {diff:E2}");
        Assert.Throws<ArgumentOutOfRangeException>(() => Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder,
            new Microsoft.ML.DiffNft.StableDiffusion.StableDiffusionLoadOptions { VaeDecodeBatch = 0 }));
    }
}
