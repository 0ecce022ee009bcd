using System.Text.Json;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>
/// Our modules built from the published SD 1.5 and SD 2.1 configs have exactly the parameter names and shapes that the
/// reference classes have (manifests written by the reference code from the same configs): no more, no fewer, in the
/// same order. Built on the meta device, so nothing is allocated.
/// </summary>
[Collection(TorchDefaultDeviceCollection.Name)]
public class PublishedLayoutTests
{
    private static string Manifests => Path.Combine(ReferenceGoldens.Root, "manifests");

    private static List<(string Name, long[] Shape)> Manifest(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Manifests, file)));
        return doc.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.EnumerateArray().Select(e => e.GetInt64()).ToArray())).ToList();
    }

    private static string Config(string file) => File.ReadAllText(Path.Combine(Manifests, file));

    private static void SameLayout(List<(string Name, long[] Shape)> expected, IReadOnlyDictionary<string, long[]> actual)
    {
        var missing = expected.Select(e => e.Name).Except(actual.Keys).ToList();
        var extra = actual.Keys.Except(expected.Select(e => e.Name)).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: {string.Join(", ", missing.Take(5))}; unexpected: {string.Join(", ", extra.Take(5))}");
        foreach (var (name, shape) in expected)
            Assert.True(shape.SequenceEqual(actual[name]), $"{name}: [{string.Join(",", actual[name])}], reference [{string.Join(",", shape)}]");
        Assert.Equal(expected.Select(e => e.Name), actual.Keys);
    }

    [Fact]
    public void TheTinyPresetsInCodeAreTheTinyFoldersConfigs()
    {
        TorchRuntime.EnsureLoaded();
        string tiny = ReferenceGoldens.TinyFolder;
        SameLayout(ParameterLayout.Of(UNet2DConditionConfig.FromFile(Path.Combine(tiny, "unet", "config.json"))).Select(p => (p.Key, p.Value)).ToList(),
            ParameterLayout.Of(UNet2DConditionConfig.Tiny));
        SameLayout(ParameterLayout.Of(AutoencoderKLConfig.FromFile(Path.Combine(tiny, "vae", "config.json"))).Select(p => (p.Key, p.Value)).ToList(),
            ParameterLayout.Of(AutoencoderKLConfig.Tiny));
    }

    [Theory]
    [InlineData("sd15", 859_520_964L)]
    [InlineData("sd21", 865_910_724L)]
    public void UNetLayouts(string model, long published)
    {
        TorchRuntime.EnsureLoaded();
        var layout = ParameterLayout.Of(UNet2DConditionConfig.FromJson(Config($"{model}_unet_config.json")));
        SameLayout(Manifest($"{model}_unet.json"), layout);
        Assert.Equal(published, ParameterLayout.Count(layout));
    }

    [Theory]
    [InlineData("sd15")]
    [InlineData("sd21")]
    public void VaeLayouts(string model)
    {
        TorchRuntime.EnsureLoaded();
        var layout = ParameterLayout.Of(AutoencoderKLConfig.FromJson(Config($"{model}_vae_config.json")));
        SameLayout(Manifest($"{model}_vae.json"), layout);
        Assert.Equal(83_653_863L, ParameterLayout.Count(layout));
    }

    [Theory]
    [InlineData("sd15", 123_060_480L)]
    [InlineData("sd21", 340_387_840L)]
    public void TextEncoderLayouts(string model, long published)
    {
        TorchRuntime.EnsureLoaded();
        torch.set_default_device(torch.META);
        try
        {
            using var encoder = new ClipTextModel(ClipTextConfig.FromJson(Config($"{model}_text_encoder_config.json")));
            var layout = ParameterLayout.Of(encoder);
            SameLayout(Manifest($"{model}_text_encoder.json"), layout);
            Assert.Equal(published, ParameterLayout.Count(layout));
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
    }
}
