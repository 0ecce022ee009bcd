using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Reward.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

public class VisionTransformerTests
{
    public VisionTransformerTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(VitPreset.Tiny)]
    [InlineData(VitPreset.Small)]
    [InlineData(VitPreset.Base)]
    public void EveryLayerNormStartsWithWeightOneAndBiasZero(VitPreset preset)
    {
        using var net = new RarityNetwork(VitOptions.For(preset));
        int count = 0;
        foreach (var (name, module) in net.named_modules())
        {
            if (module is not TorchSharp.Modules.LayerNorm ln) continue;
            count++;
            Assert.True(ln.weight!.eq(1).all().item<bool>(), $"{name}.weight is not all ones");
            Assert.True(ln.bias!.eq(0).all().item<bool>(), $"{name}.bias is not all zeros");
        }
        // Two per block plus the final one.
        Assert.Equal(2 * VitOptions.For(preset).Depth + 1, count);
    }

    [Theory]
    [InlineData(VitPooling.Mean, VitPatchEmbedding.Convolutional, 32, 8, 16)]
    [InlineData(VitPooling.ClassToken, VitPatchEmbedding.Convolutional, 32, 4, 64)]
    [InlineData(VitPooling.Mean, VitPatchEmbedding.Convolutional, 36, 8, 25)] // ⌈36 / 8⌉ = 5 per side
    [InlineData(VitPooling.Mean, VitPatchEmbedding.Linear, 36, 9, 16)]
    [InlineData(VitPooling.ClassToken, VitPatchEmbedding.Linear, 32, 4, 64)]
    public void ForwardGivesEmbeddingScoreAndLogitShapes(VitPooling pooling, VitPatchEmbedding embedding, int size, int patch, int tokens)
    {
        using var scope = NewDisposeScope();
        var options = VitOptions.For(VitPreset.Tiny) with { Pooling = pooling, PatchEmbedding = embedding, ImageSize = size, PatchSize = patch };
        options.Validate();
        Assert.Equal(tokens, options.PatchCount);
        using var net = new RarityNetwork(options);
        var (e, score, logit) = net.call(randn(5, 3, size, size));
        Assert.Equal(new long[] { 5, options.Dim }, e.shape);
        Assert.Equal(new long[] { 5 }, score.shape);
        Assert.Equal(new long[] { 5 }, logit.shape);
        Assert.True(isfinite(e).all().item<bool>());
        long positions = tokens + (pooling == VitPooling.ClassToken ? 1 : 0);
        var pos = net.named_parameters().Single(p => p.name.EndsWith("positionEmbedding", StringComparison.Ordinal)).parameter;
        Assert.Equal(new long[] { 1, positions, options.Dim }, pos.shape);
    }

    [Fact]
    public void PresetsAdaptTheirPatchesToOtherImageSizes()
    {
        var small = VitOptions.For(VitPreset.Small);
        Assert.Equal((36, 8, 25), (small.ForImageSize(36).ImageSize, small.ForImageSize(36).PatchSize, small.ForImageSize(36).PatchCount));
        var linear = small with { PatchEmbedding = VitPatchEmbedding.Linear };
        Assert.Equal(9, linear.ForImageSize(36).PatchSize);   // divisors of 36 nearest 8: 9 (and 6, further)
        Assert.Equal(8, linear.ForImageSize(64).PatchSize);
        var options = new RarityRewardTrainerOptions();
        Assert.Equal(36, options.ResolveVit(36, 36).ImageSize);
        Assert.Equal(32, options.ResolveVit(40, 30).ImageSize); // not square: the preset's 32
        Assert.Equal(24, (options with { ImageSize = 24 }).ResolveVit(36, 36).ImageSize);
    }

    [Fact]
    public void PresetsGrowAndTheSmallPresetIsAboutHalfAMillionParameters()
    {
        long Count(VitPreset p)
        {
            using var net = new RarityNetwork(VitOptions.For(p));
            return net.parameters().Sum(t => t.numel());
        }
        long tiny = Count(VitPreset.Tiny), small = Count(VitPreset.Small), big = Count(VitPreset.Base);
        Assert.True(tiny < small && small < big, $"{tiny} < {small} < {big}");
        Assert.InRange(small, 300_000, 1_000_000);
    }

    [Fact]
    public void InvalidOptionsNameTheSetting()
    {
        var linear = VitOptions.For(VitPreset.Tiny) with { PatchEmbedding = VitPatchEmbedding.Linear };
        Assert.Contains("PatchSize", Assert.Throws<ArgumentException>(() => (linear with { ImageSize = 30 }).Validate()).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() => (VitOptions.For(VitPreset.Tiny) with { PatchSize = 6 }).Validate()).Message);
        Assert.Contains("Heads", Assert.Throws<ArgumentException>(() => (VitOptions.For(VitPreset.Small) with { Heads = 3 }).Validate()).Message);
        Assert.Contains("Depth", Assert.Throws<ArgumentException>(() => (VitOptions.For(VitPreset.Small) with { Depth = 0 }).Validate()).Message);
    }
}
