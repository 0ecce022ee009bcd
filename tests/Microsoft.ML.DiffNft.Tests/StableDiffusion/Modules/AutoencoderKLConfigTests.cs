using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

public class AutoencoderKLConfigTests
{
    // runwayml/stable-diffusion-v1-5 vae/config.json as published (no scaling_factor key: the default applies).
    internal const string Sd15VaeJson = """
        {
          "_class_name": "AutoencoderKL",
          "_diffusers_version": "0.6.0",
          "act_fn": "silu",
          "block_out_channels": [128, 256, 512, 512],
          "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
          "in_channels": 3,
          "latent_channels": 4,
          "layers_per_block": 2,
          "norm_num_groups": 32,
          "out_channels": 3,
          "sample_size": 512,
          "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]
        }
        """;

    [Fact]
    public void AnEmptyObjectGivesDiffusersConstructorDefaults()
    {
        var c = AutoencoderKLConfig.FromJson("{}", "vae.json");
        Assert.Equal(3, c.InChannels);
        Assert.Equal(3, c.OutChannels);
        Assert.Equal(new[] { "DownEncoderBlock2D" }, c.DownBlockTypes);
        Assert.Equal(new[] { "UpDecoderBlock2D" }, c.UpBlockTypes);
        Assert.Equal(new[] { 64 }, c.BlockOutChannels);
        Assert.Equal(1, c.LayersPerBlock);
        Assert.Equal("silu", c.ActFn);
        Assert.Equal(4, c.LatentChannels);
        Assert.Equal(32, c.NormNumGroups);
        Assert.Equal(32, c.SampleSize);
        Assert.Equal(0.18215, c.ScalingFactor);
        Assert.True(c.ForceUpcast);
        Assert.Equal(1, c.DownscaleFactor);
    }

    [Fact]
    public void TheSd15VaeConfigReadsAsPublished()
    {
        var c = AutoencoderKLConfig.FromJson(Sd15VaeJson, "sd15/vae/config.json");
        Assert.Equal(new[] { 128, 256, 512, 512 }, c.BlockOutChannels);
        Assert.Equal(2, c.LayersPerBlock);
        Assert.Equal(512, c.SampleSize);
        Assert.Equal(0.18215, c.ScalingFactor);
        Assert.Equal(8, c.DownscaleFactor);
        var withScale = AutoencoderKLConfig.FromJson("""{"scaling_factor": 0.13025, "force_upcast": false}""", "x.json");
        Assert.Equal(0.13025, withScale.ScalingFactor);
        Assert.False(withScale.ForceUpcast);
    }

    [Theory]
    [InlineData("""{"block_out_channels": [128, 256], "down_block_types": ["DownEncoderBlock2D"]}""", "down_block_types")]
    [InlineData("""{"block_out_channels": [48]}""", "norm_num_groups")]
    [InlineData("""{"latent_channels": 0}""", "latent_channels")]
    [InlineData("""{"scaling_factor": -1}""", "scaling_factor")]
    public void InvalidValuesNameTheKeyAndTheFile(string json, string key)
    {
        var ex = Assert.Throws<InvalidDataException>(() => AutoencoderKLConfig.FromJson(json, "bad/vae/config.json"));
        Assert.Contains(key, ex.Message);
        Assert.Contains("bad/vae/config.json", ex.Message);
    }

    [Theory]
    [InlineData("use_quant_conv", "false")]
    [InlineData("shift_factor", "0.0609")]
    [InlineData("mid_block_add_attention", "false")]
    public void ArchitectureChangingOptionsAreRejectedByName(string key, string value)
    {
        var ex = Assert.Throws<NotSupportedException>(() => AutoencoderKLConfig.FromJson($$"""{"{{key}}": {{value}}}""", "other/vae/config.json"));
        Assert.Contains(key, ex.Message);
        Assert.Contains(value, ex.Message);
        Assert.Contains("other/vae/config.json", ex.Message);
    }

    [Fact]
    public void AnUnsupportedBlockTypeIsNamed()
    {
        var ex = Assert.Throws<NotSupportedException>(() => AutoencoderKLConfig.FromJson("""{"down_block_types": ["AttnDownEncoderBlock2D"]}""", "v.json"));
        Assert.Contains("AttnDownEncoderBlock2D", ex.Message);
    }
}
