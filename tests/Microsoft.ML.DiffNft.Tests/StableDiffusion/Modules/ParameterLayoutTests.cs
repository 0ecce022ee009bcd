using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>
/// Parameter names and shapes against the names diffusers v0.21.4 gives the same architectures (derived by reading its
/// unet_2d_condition.py, unet_2d_blocks.py, resnet.py, attention.py, attention_processor.py, transformer_2d.py, vae.py).
/// </summary>
public class ParameterLayoutTests(ITestOutputHelper output)
{
    public static TheoryData<string, long[]> TinyUNetNames => new()
    {
        { "conv_in.weight", [32, 4, 3, 3] },
        { "conv_in.bias", [32] },
        { "time_embedding.linear_1.weight", [128, 32] },
        { "time_embedding.linear_1.bias", [128] },
        { "time_embedding.linear_2.weight", [128, 128] },
        { "down_blocks.0.resnets.0.norm1.weight", [32] },
        { "down_blocks.0.resnets.0.conv1.weight", [32, 32, 3, 3] },
        { "down_blocks.0.resnets.0.time_emb_proj.weight", [32, 128] },
        { "down_blocks.0.resnets.1.norm2.bias", [32] },
        { "down_blocks.0.resnets.1.conv2.weight", [32, 32, 3, 3] },
        { "down_blocks.0.downsamplers.0.conv.weight", [32, 32, 3, 3] },
        { "down_blocks.0.downsamplers.0.conv.bias", [32] },
        { "down_blocks.1.resnets.0.conv1.weight", [64, 32, 3, 3] },
        { "down_blocks.1.resnets.0.conv_shortcut.weight", [64, 32, 1, 1] },
        { "down_blocks.1.resnets.0.conv_shortcut.bias", [64] },
        { "down_blocks.1.attentions.0.norm.weight", [64] },
        { "down_blocks.1.attentions.0.proj_in.weight", [64, 64, 1, 1] },
        { "down_blocks.1.attentions.0.proj_out.bias", [64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.norm1.weight", [64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight", [64, 64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k.weight", [64, 64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0.weight", [64, 64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.0.bias", [64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.norm2.bias", [64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q.weight", [64, 64] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight", [64, 32] },
        { "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v.weight", [64, 32] },
        { "down_blocks.1.attentions.1.transformer_blocks.0.norm3.weight", [64] },
        { "down_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj.weight", [512, 64] },
        { "down_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj.bias", [512] },
        { "down_blocks.1.attentions.1.transformer_blocks.0.ff.net.2.weight", [64, 256] },
        { "down_blocks.1.attentions.1.transformer_blocks.0.ff.net.2.bias", [64] },
        { "mid_block.resnets.0.conv1.weight", [64, 64, 3, 3] },
        { "mid_block.resnets.1.time_emb_proj.bias", [64] },
        { "mid_block.attentions.0.proj_in.weight", [64, 64, 1, 1] },
        { "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight", [64, 32] },
        { "up_blocks.0.resnets.0.norm1.weight", [128] },
        { "up_blocks.0.resnets.0.conv1.weight", [64, 128, 3, 3] },
        { "up_blocks.0.resnets.0.conv_shortcut.weight", [64, 128, 1, 1] },
        { "up_blocks.0.resnets.1.conv1.weight", [64, 128, 3, 3] },
        { "up_blocks.0.resnets.2.conv1.weight", [64, 96, 3, 3] },
        { "up_blocks.0.resnets.2.conv_shortcut.weight", [64, 96, 1, 1] },
        { "up_blocks.0.attentions.2.transformer_blocks.0.attn1.to_v.weight", [64, 64] },
        { "up_blocks.0.upsamplers.0.conv.weight", [64, 64, 3, 3] },
        { "up_blocks.0.upsamplers.0.conv.bias", [64] },
        { "up_blocks.1.resnets.0.conv1.weight", [32, 96, 3, 3] },
        { "up_blocks.1.resnets.0.conv_shortcut.weight", [32, 96, 1, 1] },
        { "up_blocks.1.resnets.1.conv_shortcut.weight", [32, 64, 1, 1] },
        { "up_blocks.1.resnets.2.conv1.weight", [32, 64, 3, 3] },
        { "up_blocks.1.resnets.2.time_emb_proj.weight", [32, 128] },
        { "conv_norm_out.weight", [32] },
        { "conv_norm_out.bias", [32] },
        { "conv_out.weight", [4, 32, 3, 3] },
        { "conv_out.bias", [4] },
    };

    // Names diffusers does not have in this architecture: attention biases (attention_bias=False), a downsampler after the
    // last level, an upsampler after the last up level, attentions in plain blocks, shortcuts where channels agree.
    public static TheoryData<string> TinyUNetAbsentNames => new()
    {
        "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.bias",
        "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.bias",
        "down_blocks.1.downsamplers.0.conv.weight",
        "up_blocks.1.upsamplers.0.conv.weight",
        "down_blocks.0.attentions.0.norm.weight",
        "up_blocks.1.attentions.0.norm.weight",
        "down_blocks.0.resnets.0.conv_shortcut.weight",
        "down_blocks.1.resnets.1.conv_shortcut.weight",
        "mid_block.resnets.0.conv_shortcut.weight",
        "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_out.1.weight",
        "down_blocks.1.attentions.0.transformer_blocks.0.ff.net.1.weight",
    };

    private static readonly Lazy<IReadOnlyDictionary<string, long[]>> s_tinyUNet = new(() => ParameterLayout.Of(UNet2DConditionConfig.Tiny));
    private static readonly Lazy<IReadOnlyDictionary<string, long[]>> s_tinyVae = new(() => ParameterLayout.Of(AutoencoderKLConfig.Tiny));

    [Theory]
    [MemberData(nameof(TinyUNetNames))]
    public void TheTinyUNetHasDiffusersNamesAndShapes(string name, long[] shape)
    {
        Assert.True(s_tinyUNet.Value.TryGetValue(name, out var actual), $"missing {name}");
        Assert.Equal(shape, actual);
    }

    [Theory]
    [MemberData(nameof(TinyUNetAbsentNames))]
    public void TheTinyUNetHasNoParametersDiffusersLacks(string name) => Assert.False(s_tinyUNet.Value.ContainsKey(name), $"unexpected {name}");

    [Fact]
    public void EveryNameIsADiffusersStyleDottedSnakeCasePath()
    {
        var pattern = new Regex("^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*\\.(weight|bias)$");
        foreach (var name in s_tinyUNet.Value.Keys.Concat(s_tinyVae.Value.Keys))
            Assert.Matches(pattern, name);
        // Per-level counts: 2 resnets down, 3 up, a transformer per resnet in cross-attention levels only.
        var unet = s_tinyUNet.Value.Keys;
        Assert.Equal(2, unet.Where(n => n.StartsWith("down_blocks.1.attentions.", StringComparison.Ordinal) && n.EndsWith(".norm.weight", StringComparison.Ordinal) && !n.Contains("transformer")).Count());
        Assert.Equal(3, unet.Where(n => n.StartsWith("up_blocks.0.resnets.", StringComparison.Ordinal) && n.EndsWith(".conv1.weight", StringComparison.Ordinal)).Count());
        Assert.Equal(3, unet.Where(n => n.StartsWith("up_blocks.0.attentions.", StringComparison.Ordinal) && n.EndsWith(".proj_in.weight", StringComparison.Ordinal)).Count());
        // Every transformer block: 2 attentions × (q, k, v weights + out weight and bias) = 10, 3 LayerNorms × 2 = 6,
        // GEGLU projection 2, output Linear 2: 20.
        Assert.Equal(20, unet.Count(n => n.StartsWith("mid_block.attentions.0.transformer_blocks.0.", StringComparison.Ordinal)));
    }

    // The tiny VAE keeps diffusers' default layers_per_block 1: one resnet per encoder level, two per decoder level.
    public static TheoryData<string, long[]> TinyVaeNames => new()
    {
        { "encoder.conv_in.weight", [32, 3, 3, 3] },
        { "encoder.down_blocks.0.resnets.0.norm1.weight", [32] },
        { "encoder.down_blocks.0.resnets.0.conv2.weight", [32, 32, 3, 3] },
        { "encoder.down_blocks.0.downsamplers.0.conv.weight", [32, 32, 3, 3] },
        { "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", [64, 32, 1, 1] },
        { "encoder.mid_block.resnets.0.conv1.weight", [64, 64, 3, 3] },
        { "encoder.mid_block.attentions.0.group_norm.weight", [64] },
        { "encoder.mid_block.attentions.0.group_norm.bias", [64] },
        { "encoder.mid_block.attentions.0.to_q.weight", [64, 64] },
        { "encoder.mid_block.attentions.0.to_q.bias", [64] },
        { "encoder.mid_block.attentions.0.to_k.bias", [64] },
        { "encoder.mid_block.attentions.0.to_v.weight", [64, 64] },
        { "encoder.mid_block.attentions.0.to_out.0.weight", [64, 64] },
        { "encoder.mid_block.attentions.0.to_out.0.bias", [64] },
        { "encoder.conv_norm_out.weight", [64] },
        { "encoder.conv_out.weight", [8, 64, 3, 3] },
        { "quant_conv.weight", [8, 8, 1, 1] },
        { "quant_conv.bias", [8] },
        { "post_quant_conv.weight", [4, 4, 1, 1] },
        { "decoder.conv_in.weight", [64, 4, 3, 3] },
        { "decoder.mid_block.attentions.0.to_k.weight", [64, 64] },
        { "decoder.mid_block.resnets.1.norm2.weight", [64] },
        { "decoder.up_blocks.0.resnets.0.conv1.weight", [64, 64, 3, 3] },
        { "decoder.up_blocks.0.resnets.1.conv2.weight", [64, 64, 3, 3] },
        { "decoder.up_blocks.0.upsamplers.0.conv.weight", [64, 64, 3, 3] },
        { "decoder.up_blocks.1.resnets.0.conv1.weight", [32, 64, 3, 3] },
        { "decoder.up_blocks.1.resnets.0.conv_shortcut.weight", [32, 64, 1, 1] },
        { "decoder.up_blocks.1.resnets.1.conv2.bias", [32] },
        { "decoder.up_blocks.1.resnets.1.conv1.weight", [32, 32, 3, 3] },
        { "decoder.conv_norm_out.weight", [32] },
        { "decoder.conv_out.weight", [3, 32, 3, 3] },
    };

    [Theory]
    [MemberData(nameof(TinyVaeNames))]
    public void TheTinyVaeHasDiffusersNamesAndShapes(string name, long[] shape)
    {
        Assert.True(s_tinyVae.Value.TryGetValue(name, out var actual), $"missing {name}");
        Assert.Equal(shape, actual);
    }

    [Theory]
    [InlineData("encoder.down_blocks.1.downsamplers.0.conv.weight")]
    [InlineData("decoder.up_blocks.1.upsamplers.0.conv.weight")]
    [InlineData("decoder.up_blocks.0.resnets.0.conv_shortcut.weight")]
    [InlineData("encoder.down_blocks.0.resnets.0.time_emb_proj.weight")]
    [InlineData("encoder.mid_block.attentions.0.query.weight")]
    [InlineData("decoder.up_blocks.0.resnets.2.conv1.weight")]
    [InlineData("encoder.down_blocks.0.resnets.1.conv1.weight")]
    public void TheTinyVaeHasNoParametersDiffusersLacks(string name) => Assert.False(s_tinyVae.Value.ContainsKey(name), $"unexpected {name}");

    [Fact]
    public void Sd15CountsAreThePublishedOnes()
    {
        var sw = Stopwatch.StartNew();
        var unet = ParameterLayout.Of(UNet2DConditionConfig.FromJson(UNet2DConditionConfigTests.Sd15Json, "sd15/unet/config.json"));
        long unetMs = sw.ElapsedMilliseconds;
        var vae = ParameterLayout.Of(AutoencoderKLConfig.FromJson(AutoencoderKLConfigTests.Sd15VaeJson, "sd15/vae/config.json"));
        output.WriteLine($"SD 1.5 UNet: {unet.Count} tensors, {ParameterLayout.Count(unet):N0} parameters (meta build {unetMs} ms); VAE: {vae.Count} tensors, {ParameterLayout.Count(vae):N0} parameters");
        Assert.Equal(859_520_964L, ParameterLayout.Count(unet));
        Assert.Equal(83_653_863L, ParameterLayout.Count(vae));
        Assert.Equal(ParameterLayout.Count(unet), ParameterLayout.Count(ParameterLayout.Of(UNet2DConditionConfig.StableDiffusion15)));
        Assert.Equal(ParameterLayout.Count(vae), ParameterLayout.Count(ParameterLayout.Of(AutoencoderKLConfig.StableDiffusion)));
        // SD 1.5 has 8 heads of 40/80/160 channels; the widest cross-attention key projection reads 768-wide prompts.
        Assert.Equal(new long[] { 1280, 768 }, unet["mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight"]);
        Assert.Equal(new long[] { 320, 320, 1, 1 }, unet["down_blocks.0.attentions.0.proj_in.weight"]);
        Assert.Equal(new long[] { 256, 512, 1, 1 }, vae["decoder.up_blocks.2.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 512 }, vae["encoder.mid_block.attentions.0.group_norm.weight"]);
    }

    [Fact]
    public void Sd21BuildsWithLinearProjectionsAndItsCountIsSd15PlusTheWiderPromptProjections()
    {
        var unet = ParameterLayout.Of(UNet2DConditionConfig.FromJson(UNet2DConditionConfigTests.Sd21Json, "sd21/unet/config.json"));
        long count = ParameterLayout.Count(unet);
        output.WriteLine($"SD 2.1 UNet: {unet.Count} tensors, {count:N0} parameters");
        // Linear projections have the conv's parameter count; only to_k/to_v of attn2 grow from 768 to 1024 inputs:
        // 2 × 256 × (sum of the channels of all 16 transformers) = 2 × 256 × 12,480.
        Assert.Equal(859_520_964L + 2L * 256 * 12_480, count);
        Assert.Equal(865_910_724L, count);
        Assert.Equal(new long[] { 320, 320 }, unet["down_blocks.0.attentions.1.proj_in.weight"]);
        Assert.Equal(new long[] { 1280, 1280 }, unet["up_blocks.1.attentions.2.proj_out.weight"]);
        Assert.Equal(new long[] { 640, 1024 }, unet["up_blocks.2.attentions.0.transformer_blocks.0.attn2.to_v.weight"]);
    }
}
