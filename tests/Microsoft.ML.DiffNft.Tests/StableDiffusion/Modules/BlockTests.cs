using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>Building blocks against their definitions written with functional ops, and invariants between variants.</summary>
public class BlockTests
{
    private static Tensor P(nn.Module m, string name) => m.named_parameters().Single(p => p.name == name).parameter;

    private static void Randomise(nn.Module m)
    {
        using var _ = no_grad();
        foreach (var (_, p) in m.named_parameters()) p.copy_(randn(p.shape) * 0.2);
    }

    [Fact]
    public void ResnetBlockMatchesItsDefinitionWithShortcutTimeEmbeddingAndOutputScale()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        using var block = new ResnetBlock2D(LayerFactory.Default, 8, 16, tembChannels: 12, groups: 4, eps: 1e-5, outputScaleFactor: 2.0);
        Randomise(block);
        var x = randn(2, 8, 5, 6);
        var temb = randn(2, 12);
        using var _ = no_grad();
        var f = nn.functional.silu(nn.functional.group_norm(x, 4, P(block, "norm1.weight"), P(block, "norm1.bias"), 1e-5));
        f = nn.functional.conv2d(f, P(block, "conv1.weight"), P(block, "conv1.bias"), padding: new long[] { 1, 1 });
        var t = nn.functional.linear(nn.functional.silu(temb), P(block, "time_emb_proj.weight"), P(block, "time_emb_proj.bias"));
        f = f + t.reshape(2, 16, 1, 1);
        f = nn.functional.silu(nn.functional.group_norm(f, 4, P(block, "norm2.weight"), P(block, "norm2.bias"), 1e-5));
        f = nn.functional.conv2d(f, P(block, "conv2.weight"), P(block, "conv2.bias"), padding: new long[] { 1, 1 });
        var shortcut = nn.functional.conv2d(x, P(block, "conv_shortcut.weight"), P(block, "conv_shortcut.bias"));
        var expected = (shortcut + f) / 2.0;
        Assert.True(allclose(block.call(x, temb), expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void TheVaeDownsamplerPadsBottomRightThenConvolvesWithoutPadding()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        using var down = new Downsample2D(LayerFactory.Default, 4, padding: 0);
        var x = randn(1, 4, 7, 8);
        using var _ = no_grad();
        var expected = nn.functional.conv2d(nn.functional.pad(x, new long[] { 0, 1, 0, 1 }), P(down, "conv.weight"), P(down, "conv.bias"), strides: new long[] { 2, 2 });
        var actual = down.call(x);
        Assert.Equal(new long[] { 1, 4, 3, 4 }, actual.shape);
        Assert.True(allclose(actual, expected, rtol: 1e-6, atol: 1e-6));
        using var unetDown = new Downsample2D(LayerFactory.Default, 4, padding: 1);
        Assert.Equal(new long[] { 1, 4, 4, 4 }, unetDown.call(x).shape);
    }

    [Fact]
    public void TheUpsamplerRepeatsPixelsOrHitsTheRequestedSize()
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var up = new Upsample2D(LayerFactory.Default, 2);
        var x = randn(1, 2, 3, 4);
        using var _ = no_grad();
        var repeated = x.repeat_interleave(2, 2).repeat_interleave(2, 3);
        var expected = nn.functional.conv2d(repeated, P(up, "conv.weight"), P(up, "conv.bias"), padding: new long[] { 1, 1 });
        Assert.True(allclose(up.call(x, null), expected, rtol: 1e-6, atol: 1e-6));
        Assert.Equal(new long[] { 1, 2, 5, 7 }, up.call(x, [5, 7]).shape);
    }

    [Fact]
    public void LinearAndConvolutionProjectionsAreTheSameMapOverPixels()
    {
        using var scope = NewDisposeScope();
        manual_seed(24);
        using var conv = new Transformer2DModel(LayerFactory.Default, heads: 4, headDim: 8, inChannels: 32, numLayers: 2, crossAttentionDim: 16, normGroups: 8, useLinearProjection: false, upcastAttention: false);
        using var linear = new Transformer2DModel(LayerFactory.Default, heads: 4, headDim: 8, inChannels: 32, numLayers: 2, crossAttentionDim: 16, normGroups: 8, useLinearProjection: true, upcastAttention: false);
        Randomise(conv);
        var linearParams = linear.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
            foreach (var (name, p) in conv.named_parameters())
                linearParams[name].copy_(p.reshape(linearParams[name].shape));
        var x = randn(2, 32, 3, 5);
        var ctx = randn(2, 6, 16);
        using var _ = no_grad();
        var a = conv.call(x, ctx);
        Assert.Equal(x.shape, a.shape);
        Assert.True(allclose(a, linear.call(x, ctx), rtol: 1e-4, atol: 1e-5));
        // And the transformer is not the identity: the residual branch contributes.
        Assert.True((a - x).abs().max().item<float>() > 1e-3f);
    }

    [Fact]
    public void TheGaussianClampsTheLogVarianceAndDerivesStdAndVar()
    {
        using var scope = NewDisposeScope();
        var moments = cat(new[] { full(1, 2, 2, 2, 0.5f), tensor(new[] { -100f, -1f, 0f, 2f, 25f, 3f, -30f, 20f }).reshape(1, 2, 2, 2) }, 1);
        using var posterior = new DiagonalGaussianDistribution(moments);
        var logvar = posterior.LogVar.data<float>().ToArray();
        Assert.Equal(new[] { -30f, -1f, 0f, 2f, 20f, 3f, -30f, 20f }, logvar);
        Assert.True(allclose(posterior.Std, exp(posterior.LogVar / 2)));
        Assert.True(allclose(posterior.Var, exp(posterior.LogVar)));
        Assert.True(posterior.Mode().eq(0.5f).all().item<bool>());
        var sample = posterior.Sample(new Generator(5));
        Assert.Equal(posterior.Mean.shape, sample.shape);
        Assert.Throws<ArgumentException>(() => new DiagonalGaussianDistribution(zeros(1, 3, 2, 2)));
    }
}
