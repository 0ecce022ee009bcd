using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>
/// Each component loaded from the tiny diffusers folder computes what the reference computed on the same inputs
/// (float32, within 1e-4).
/// </summary>
public class ComponentParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private void Close(string what, Tensor actual, Tensor expected, double tolerance = Tolerance)
    {
        double diff = ReferenceGoldens.MaxAbsDiff(actual, expected);
        output.WriteLine($"{what}: max |Δ| = {diff:E2}");
        Assert.True(diff < tolerance, $"{what}: max |Δ| = {diff:E3} exceeds {tolerance:E0}");
    }

    [Theory]
    [InlineData("tiny/text_encoder", "text_encoder.safetensors")]
    [InlineData("tiny-sd2-text-encoder", "text_encoder_sd2.safetensors")]
    public void TextEncoderHiddenStates(string folder, string golden)
    {
        TorchRuntime.EnsureLoaded();
        string dir = Path.Combine(ReferenceGoldens.Root, folder);
        using var model = new ClipTextModel(ClipTextConfig.FromFile(Path.Combine(dir, "config.json")));
        StateDictLoader.LoadInto(model, [Path.Combine(dir, "model.safetensors")], new StateDictLoadOptions { Optional = ClipTextModel.IgnorableCheckpointTensors });
        model.eval();
        var g = ReferenceGoldens.Read(golden);
        using var noGrad = no_grad();
        Close(folder + " last_hidden_state", model.call(g["input_ids"]), g["last_hidden_state"]);
        Close(folder + " hidden_states.3", model.HiddenState(g["input_ids"], 3), g["hidden_states.3"]);
    }

    [Theory]
    [InlineData("tiny/unet", "unet.safetensors")]
    [InlineData("tiny-sd2-unet", "unet_sd2.safetensors")]
    public void UNetOutput(string folder, string golden)
    {
        TorchRuntime.EnsureLoaded();
        string dir = Path.Combine(ReferenceGoldens.Root, folder);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.FromFile(Path.Combine(dir, "config.json")));
        StateDictLoader.LoadInto(unet, [Path.Combine(dir, "diffusion_pytorch_model.safetensors")], new StateDictLoadOptions());
        unet.eval();
        var g = ReferenceGoldens.Read(golden);
        using var noGrad = no_grad();
        Close(folder, unet.call(g["sample"], g["timestep"], g["encoder_hidden_states"]), g["output"]);
    }

    [Fact]
    public void VaeEncodeAndDecode()
    {
        TorchRuntime.EnsureLoaded();
        string dir = Path.Combine(ReferenceGoldens.TinyFolder, "vae");
        using var vae = new AutoencoderKL(AutoencoderKLConfig.FromFile(Path.Combine(dir, "config.json")));
        StateDictLoader.LoadInto(vae, [Path.Combine(dir, "diffusion_pytorch_model.safetensors")], new StateDictLoadOptions { MapLegacyVaeAttentionNames = true });
        vae.eval();
        var g = ReferenceGoldens.Read("vae.safetensors");
        using var noGrad = no_grad();
        using var dist = vae.Encode(g["image"]);
        Close("latent mean", dist.Mean, g["latent_mean"]);
        Close("latent std", dist.Std, g["latent_std"]);
        Close("latent logvar", dist.LogVar, g["latent_logvar"]);
        Close("decoded", vae.Decode(g["latent"]), g["decoded"]);
        Close("decoded from mean", vae.Decode(g["latent_mean"]), g["decoded_from_mean"]);
    }

    [Fact]
    public void TheFp16VariantLoadsAndComputesWithinHalfPrecision()
    {
        // The fp16 file is the same weights rounded to half precision: loaded into float32 it must be close to the
        // float32 reference output (within fp16 rounding), and the folder must prefer it when asked.
        var folder = DiffusersFolder.Open(ReferenceGoldens.TinyFolder);
        var weights = folder.FindWeights("unet", "fp16");
        Assert.Equal("fp16", weights.Variant);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.FromJson(folder.ReadConfigJson("unet")));
        StateDictLoader.LoadInto(unet, weights, new StateDictLoadOptions());
        unet.eval();
        var g = ReferenceGoldens.Read("unet.safetensors");
        using var noGrad = no_grad();
        Close("unet fp16 weights", unet.call(g["sample"], g["timestep"], g["encoder_hidden_states"]), g["output"], 2e-2);
    }
}
