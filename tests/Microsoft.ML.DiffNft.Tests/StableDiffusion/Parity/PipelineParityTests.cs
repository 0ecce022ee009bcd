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

/// <summary>
/// LoRA interop in the other direction: an adapter made and exported by us, loaded by the reference (diffusers'
/// own LoRA loader, run by make_goldens.py lora-check on the committed file), gives the output our UNet gives.
/// </summary>
public class ExportedLoraInteropTests(ITestOutputHelper output)
{
    private const string Adapter = "lora/diffnft_exported.safetensors";
    private const string ReferenceOutput = "lora_check_diffnft_exported.safetensors";

    [Fact]
    public void TheReferenceLoadsOurExportedLoraAndComputesWhatWeCompute()
    {
        using var model = StableDiffusionLoader.Load(ReferenceGoldens.TinyFolder, new StableDiffusionLoadOptions { Device = DiffNftDevice.Cpu });
        using var adapter = Microsoft.ML.DiffNft.FineTuning.LoraAdapter.Attach(model.UNet, rank: 4, alpha: 8, Microsoft.ML.DiffNft.FineTuning.LoraTargets.Attention, seed: 11, model.Device);
        using (no_grad())
        using (var gen = new Generator(12))
            foreach (var (name, p) in adapter.Parameters.Where(p => p.Name.EndsWith("lora_b", StringComparison.Ordinal)))
                p.add_(randn(p.shape, generator: gen) * 0.05);
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "lora.safetensors");
        DiffusersLoraFile.Save(path, adapter);
        if (Environment.GetEnvironmentVariable("DIFFNFT_WRITE_GOLDEN") == "1")
            File.Copy(path, ReferenceGoldens.Golden(Adapter), overwrite: true);
        // The committed file is exactly what this code exports (so the reference's output below is about our export).
        Assert.Equal(File.ReadAllBytes(ReferenceGoldens.Golden(Adapter)), File.ReadAllBytes(path));

        var g = ReferenceGoldens.Read(ReferenceOutput);
        using var noGrad = no_grad();
        var ours = model.UNet.call(g["sample"], g["timestep"], g["encoder_hidden_states"]);
        double diff = ReferenceGoldens.MaxAbsDiff(ours, g["output"]);
        var plain = ReferenceGoldens.Read("unet.safetensors");
        double effect = ReferenceGoldens.MaxAbsDiff(g["output"], plain["output"]);
        output.WriteLine($"reference with our LoRA vs ours: max |Δ| = {diff:E2}; the LoRA moves the output by up to {effect:F4}");
        Assert.True(effect > 1e-2, "the exported adapter must change the output for this check to mean anything");
        Assert.True(diff < 1e-3, $"max |Δ| = {diff:E3}");
    }
}
