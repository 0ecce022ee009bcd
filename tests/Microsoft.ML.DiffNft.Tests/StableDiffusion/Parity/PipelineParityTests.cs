using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>
/// The whole tiny pipeline loaded from its diffusers folder against the reference's 2-step DDIM run (guidance 7.5,
/// negative prompt, the reference's initial latents), and LoRA files read and written in diffusers' layout.
/// </summary>
public class PipelineParityTests(ITestOutputHelper output)
{
    private void Close(string what, Tensor actual, Tensor expected, double tolerance)
    {
        double diff = ReferenceGoldens.MaxAbsDiff(actual, expected);
        output.WriteLine($"{what}: max |Δ| = {diff:E2}");
        Assert.True(diff < tolerance, $"{what}: max |Δ| = {diff:E3} exceeds {tolerance:E0}");
    }

    private static IReadOnlyDictionary<string, string> Metadata(string golden)
    {
        using var file = SafeTensorsFile.Open(ReferenceGoldens.Golden(golden));
        return file.Metadata.ToDictionary();
    }

    [Fact]
    public void TwoStepDdimMatchesTheReferencePipeline()
    {
        var meta = Metadata("pipeline_ddim2.safetensors");
        using var model = StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder,
            new StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu, NegativePrompt = meta["negative_prompt"] });
        var g = ReferenceGoldens.Read("pipeline_ddim2.safetensors");
        string prompt = meta["prompt"];
        double guidance = double.Parse(meta["guidance_scale"], System.Globalization.CultureInfo.InvariantCulture);
        int steps = int.Parse(meta["num_inference_steps"], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(g["prompt_ids"].data<long>().ToArray(), model.Tokenizer.Encode(prompt));
        Assert.Equal(g["negative_prompt_ids"].data<long>().ToArray(), model.Tokenizer.Encode(meta["negative_prompt"]));
        var ts = model.Schedule.DdimTimesteps(steps);
        Assert.Equal(g["timesteps"].data<long>().Select(t => (int)t).ToArray(), ts);

        using var noGrad = no_grad();
        var conditioning = model.EncodePrompts([prompt]);
        var embeds = g["prompt_embeds"]; // negative first, as diffusers concatenates them
        Close("negative prompt states", conditioning.select(1, 1), embeds.narrow(0, 0, 1), 1e-4);
        Close("prompt states", conditioning.select(1, 0), embeds.narrow(0, 1, 1), 1e-4);
        var x = g["initial_latents"];
        int stride = model.Schedule.Timesteps / steps;
        for (int j = 0; j < steps; j++)
        {
            var noisePred = model.GuidedOutput(x, ts[j], conditioning, guidance);
            Close($"step {j} guided noise", noisePred, g[$"step{j}.noise_pred"], 1e-4);
            x = model.Step(noisePred, x, ts[j], ts[j] - stride, eta: 0).Sample;
            Close($"step {j} latents", x, g[$"step{j}.latents"], 1e-4);
        }
        Close("decoded image", model.ToImages(x), g["image"].clamp(-1, 1), 1e-3);
    }

    [Fact]
    public void ADiffusersLoraFileGivesTheReferenceOutput()
    {
        using var model = StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder, new StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu });
        string path = ReferenceGoldens.Golden(Path.Combine("lora", "pytorch_lora_weights.safetensors"));
        var g = ReferenceGoldens.Read("unet_lora.safetensors");
        using var noGrad = no_grad();
        using (var adapter = DiffusersLoraFile.Attach(model, path))
        {
            Assert.Equal(48, adapter.LayerCount);
            Close("UNet with the reference's LoRA", model.UNet.call(g["sample"], g["timestep"], g["encoder_hidden_states"]), g["output"], 1e-4);
        }
        // Detached again, the UNet is the plain one.
        var plain = ReferenceGoldens.Read("unet.safetensors");
        Close("UNet after removing it", model.UNet.call(plain["sample"], plain["timestep"], plain["encoder_hidden_states"]), plain["output"], 1e-4);
    }

    [Fact]
    public void AnExportedLoraFileHasDiffusersNamesAndReadsBackExactly()
    {
        using var model = StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder, new StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu });
        string reference = ReferenceGoldens.Golden(Path.Combine("lora", "pytorch_lora_weights.safetensors"));
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "lora.safetensors");
        using (var adapter = DiffusersLoraFile.Attach(model, reference))
            DiffusersLoraFile.Save(path, adapter);
        using var ours = SafeTensorsFile.Open(path);
        using var theirs = SafeTensorsFile.Open(reference);
        Assert.Equal(theirs.Entries.Select(e => e.Name).Order(), ours.Entries.Select(e => e.Name).Order());
        Assert.Equal("pt", ours.Metadata["format"]);
        foreach (var e in theirs.Entries)
        {
            using var a = ours.Read(e.Name);
            using var b = theirs.Read(e.Name);
            Assert.Equal(b.data<float>().ToArray(), a.data<float>().ToArray());
        }
    }
}
