using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

public class UNet2DConditionConfigTests
{
    // runwayml/stable-diffusion-v1-5 unet/config.json as published.
    internal const string Sd15Json = """
        {
          "_class_name": "UNet2DConditionModel",
          "_diffusers_version": "0.6.0",
          "act_fn": "silu",
          "attention_head_dim": 8,
          "block_out_channels": [320, 640, 1280, 1280],
          "center_input_sample": false,
          "cross_attention_dim": 768,
          "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
          "downsample_padding": 1,
          "flip_sin_to_cos": true,
          "freq_shift": 0,
          "in_channels": 4,
          "layers_per_block": 2,
          "mid_block_scale_factor": 1,
          "norm_eps": 1e-05,
          "norm_num_groups": 32,
          "out_channels": 4,
          "sample_size": 64,
          "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
        }
        """;

    // stabilityai/stable-diffusion-2-1 unet/config.json as published.
    internal const string Sd21Json = """
        {
          "_class_name": "UNet2DConditionModel",
          "_diffusers_version": "0.10.0.dev0",
          "act_fn": "silu",
          "attention_head_dim": [5, 10, 20, 20],
          "block_out_channels": [320, 640, 1280, 1280],
          "center_input_sample": false,
          "class_embed_type": null,
          "cross_attention_dim": 1024,
          "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
          "downsample_padding": 1,
          "dual_cross_attention": false,
          "flip_sin_to_cos": true,
          "freq_shift": 0,
          "in_channels": 4,
          "layers_per_block": 2,
          "mid_block_scale_factor": 1,
          "norm_eps": 1e-05,
          "norm_num_groups": 32,
          "num_class_embeds": null,
          "only_cross_attention": false,
          "out_channels": 4,
          "resnet_time_scale_shift": "default",
          "sample_size": 96,
          "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
          "upcast_attention": true,
          "use_linear_projection": true
        }
        """;

    [Fact]
    public void AnEmptyObjectGivesDiffusersConstructorDefaults()
    {
        var c = UNet2DConditionConfig.FromJson("{}", "defaults.json");
        Assert.Null(c.SampleSize);
        Assert.Equal(4, c.InChannels);
        Assert.Equal(4, c.OutChannels);
        Assert.False(c.CenterInputSample);
        Assert.True(c.FlipSinToCos);
        Assert.Equal(0, c.FreqShift);
        Assert.Equal(new[] { "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D" }, c.DownBlockTypes);
        Assert.Equal("UNetMidBlock2DCrossAttn", c.MidBlockType);
        Assert.Equal(new[] { "UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D" }, c.UpBlockTypes);
        Assert.Equal(new[] { 320, 640, 1280, 1280 }, c.BlockOutChannels);
        Assert.Equal(PerBlock.Of(2), c.LayersPerBlock);
        Assert.Equal(1, c.DownsamplePadding);
        Assert.Equal(1.0, c.MidBlockScaleFactor);
        Assert.Equal("silu", c.ActFn);
        Assert.Equal(32, c.NormNumGroups);
        Assert.Equal(1e-5, c.NormEps);
        Assert.Equal(1280, c.CrossAttentionDim);
        Assert.Equal(PerBlock.Of(1), c.TransformerLayersPerBlock);
        Assert.Equal(PerBlock.Of(8), c.AttentionHeadDim);
        Assert.Null(c.NumAttentionHeads);
        Assert.False(c.UseLinearProjection);
        Assert.False(c.UpcastAttention);
        Assert.Equal("default", c.ResnetTimeScaleShift);
        Assert.Empty(c.IgnoredKeys);
        Assert.Equal("defaults.json", c.Source);
    }

    [Fact]
    public void TheSd15ConfigReadsAsPublishedAndMatchesTheBuiltInPreset()
    {
        var c = UNet2DConditionConfig.FromJson(Sd15Json, "sd15/unet/config.json");
        Assert.Equal(64, c.SampleSize);
        Assert.Equal(768, c.CrossAttentionDim);
        Assert.Equal(1280, c.TimeEmbedDim);
        Assert.Equal(3, c.NumUpsamplers);
        // The naming quirk: attention_head_dim 8 with num_attention_heads null means 8 HEADS per block.
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(8, c.HeadsAt(i)));
        var preset = UNet2DConditionConfig.StableDiffusion15;
        Assert.Equal(preset.SampleSize, c.SampleSize);
        Assert.Equal(preset.CrossAttentionDim, c.CrossAttentionDim);
        Assert.Equal(preset.AttentionHeadDim, c.AttentionHeadDim);
        Assert.Equal(preset.BlockOutChannels, c.BlockOutChannels);
    }

    [Fact]
    public void TheSd21ConfigReadsPerBlockHeadsLinearProjectionAndUpcast()
    {
        var c = UNet2DConditionConfig.FromJson(Sd21Json, "sd21/unet/config.json");
        Assert.Equal(PerBlock.List(5, 10, 20, 20), c.AttentionHeadDim);
        Assert.Equal(new[] { 5, 10, 20, 20 }, Enumerable.Range(0, 4).Select(c.HeadsAt));
        Assert.True(c.UseLinearProjection);
        Assert.True(c.UpcastAttention);
        Assert.Equal(1024, c.CrossAttentionDim);
        Assert.Equal(96, c.SampleSize);
        Assert.Empty(c.IgnoredKeys);
    }

    [Fact]
    public void NumAttentionHeadsWinsOverAttentionHeadDimWhenSet()
    {
        var c = UNet2DConditionConfig.FromJson("""{"attention_head_dim": 8, "num_attention_heads": [4, 8, 16, 16]}""", "heads.json");
        Assert.Equal(new[] { 4, 8, 16, 16 }, Enumerable.Range(0, 4).Select(c.HeadsAt));
        var nullHeads = UNet2DConditionConfig.FromJson("""{"attention_head_dim": 4, "num_attention_heads": null}""", "heads.json");
        Assert.Equal(4, nullHeads.HeadsAt(2));
    }

    [Theory]
    [InlineData("class_embed_type", "\"timestep\"")]
    [InlineData("addition_embed_type", "\"text_time\"")]
    [InlineData("time_cond_proj_dim", "256")]
    [InlineData("encoder_hid_dim", "1024")]
    [InlineData("dual_cross_attention", "true")]
    [InlineData("conv_in_kernel", "7")]
    [InlineData("num_class_embeds", "10")]
    [InlineData("only_cross_attention", "true")]
    [InlineData("time_embedding_type", "\"fourier\"")]
    [InlineData("cross_attention_dim", "[768, 768, 768, 768]")]
    public void AnUnsupportedOptionNamesTheKeyTheValueAndTheFile(string key, string value)
    {
        string json = $$"""{"block_out_channels": [32, 64], "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"], "{{key}}": {{value}}}""";
        var ex = Assert.Throws<NotSupportedException>(() => UNet2DConditionConfig.FromJson(json, "/models/odd/unet/config.json"));
        Assert.Contains($"'{key}'", ex.Message);
        Assert.Contains(value, ex.Message);
        Assert.Contains("/models/odd/unet/config.json", ex.Message);
    }

    [Theory]
    [InlineData("""{"class_embed_type": null, "conv_in_kernel": 3, "only_cross_attention": [false, false, false, false], "dropout": 0.0}""")]
    [InlineData("""{"time_embedding_type": "positional", "attention_type": "default", "resnet_out_scale_factor": 1.0}""")]
    public void UnsupportedOptionsAtTheirDefaultsAreAccepted(string json)
        => Assert.Equal(320, UNet2DConditionConfig.FromJson(json, "ok.json").BlockOutChannels[0]);

    [Theory]
    [InlineData("""{"attention_head_dim": [8, 8]}""", "attention_head_dim")]
    [InlineData("""{"layers_per_block": [2, 2, 2]}""", "layers_per_block")]
    [InlineData("""{"block_out_channels": [320, 640, 1280]}""", "down_block_types")]
    [InlineData("""{"block_out_channels": [320, 640, 1280, 1000]}""", "norm_num_groups")]
    [InlineData("""{"in_channels": 0}""", "in_channels")]
    [InlineData("""{"cross_attention_dim": -1}""", "cross_attention_dim")]
    [InlineData("""{"attention_head_dim": 7}""", "attention_head_dim")]
    [InlineData("""{"num_attention_heads": 0}""", "num_attention_heads")]
    [InlineData("""{"layers_per_block": "two"}""", "layers_per_block")]
    [InlineData("""{"norm_eps": 0}""", "norm_eps")]
    public void InvalidValuesNameTheKeyAndTheFile(string json, string key)
    {
        var ex = Assert.Throws<InvalidDataException>(() => UNet2DConditionConfig.FromJson(json, "bad/unet/config.json"));
        Assert.Contains(key, ex.Message);
        Assert.Contains("bad/unet/config.json", ex.Message);
    }

    [Fact]
    public void AnUnknownBlockTypeIsNotSupportedAndNamed()
    {
        var ex = Assert.Throws<NotSupportedException>(() => UNet2DConditionConfig.FromJson(
            """{"down_block_types": ["CrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]}""", "u.json"));
        Assert.Contains("SimpleCrossAttnDownBlock2D", ex.Message);
        Assert.Contains("down_block_types", ex.Message);
        Assert.Throws<NotSupportedException>(() => UNet2DConditionConfig.FromJson("""{"mid_block_type": "UNetMidBlock2DSimpleCrossAttn"}""", "u.json"));
        Assert.Throws<NotSupportedException>(() => UNet2DConditionConfig.FromJson("""{"act_fn": "gelu"}""", "u.json"));
    }

    [Fact]
    public void MetadataKeysAreSkippedAndUnknownKeysAreReportedNotRejected()
    {
        var c = UNet2DConditionConfig.FromJson("""{"_class_name": "UNet2DConditionModel", "_name_or_path": "x", "some_future_flag": 3, "another": null}""", "u.json");
        Assert.Equal(new[] { "another", "some_future_flag" }, c.IgnoredKeys);
    }

    [Fact]
    public void MalformedJsonIsAnInvalidDataErrorNamingTheFile()
    {
        var ex = Assert.Throws<InvalidDataException>(() => UNet2DConditionConfig.FromJson("{\"in_channels\": ", "broken.json"));
        Assert.Contains("broken.json", ex.Message);
        Assert.Throws<InvalidDataException>(() => UNet2DConditionConfig.FromJson("[1, 2]", "array.json"));
    }
}
