using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Diffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class UNetTests
{
    public UNetTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(DiffusionPreset.Tiny)]
    [InlineData(DiffusionPreset.Small)]
    [InlineData(DiffusionPreset.Base)]
    public void EveryGroupNormStartsWithWeightOneAndBiasZero(DiffusionPreset preset)
    {
        using var net = new ConditionalUNet(UNetOptions.For(preset), vocabSize: 20, padId: 0);
        int count = 0;
        foreach (var (name, module) in net.named_modules())
        {
            if (module is not TorchSharp.Modules.GroupNorm gn) continue;
            count++;
            Assert.True(gn.weight!.eq(1).all().item<bool>(), $"{name}.weight is not all ones");
            Assert.True(gn.bias!.eq(0).all().item<bool>(), $"{name}.bias is not all zeros");
        }
        Assert.True(count > 4, $"expected GroupNorms in the {preset} UNet, found {count}");
    }

    [Fact]
    public void TinyForwardKeepsTheImageShapeAndIsFinite()
    {
        using var scope = NewDisposeScope();
        var options = UNetOptions.For(DiffusionPreset.Tiny);
        using var net = new ConditionalUNet(options, vocabSize: 20, padId: 0);
        var x = randn(2, 3, options.ImageSize, options.ImageSize);
        var t = tensor(new long[] { 10, 900 });
        var ids = tensor(new long[] { 3, 4, 5, 0, 7, 8, 0, 0 }, new long[] { 2, 4 });
        var y = net.forward(x, t, ids);
        Assert.Equal(x.shape, y.shape);
        Assert.True(isfinite(y).all().item<bool>());
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithTheSettingNamed()
    {
        var bad = UNetOptions.For(DiffusionPreset.Tiny) with { ImageSize = 15 };
        var ex = Assert.Throws<ArgumentException>(() => bad.Validate());
        Assert.Contains("ImageSize", ex.Message);
    }
}
