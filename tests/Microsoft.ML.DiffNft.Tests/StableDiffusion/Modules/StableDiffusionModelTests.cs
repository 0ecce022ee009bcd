using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>The tiny UNet and VAE end to end: shapes, sizes they accept or reject, and batch independence.</summary>
public class StableDiffusionModelTests
{
    private static readonly Lazy<UNet2DConditionModel> s_unet = new(() =>
    {
        manual_seed(31);
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Tiny);
        unet.eval();
        return unet;
    });

    private static readonly Lazy<AutoencoderKL> s_vae = new(() =>
    {
        manual_seed(32);
        var vae = new AutoencoderKL(AutoencoderKLConfig.Tiny);
        vae.eval();
        return vae;
    });

    private static readonly object s_lock = new();

    [Fact]
    public void TheTinyUNetPredictsTheLatentShapeFromAnyTimestepForm()
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var unet = s_unet.Value;
            var x = randn(2, 4, 32, 32);
            var ctx = randn(2, 77, 32);
            var y = unet.call(x, tensor(new long[] { 10, 10 }), ctx);
            Assert.Equal(x.shape, y.shape);
            Assert.True(isfinite(y).all().item<bool>());
            Assert.True(y.eq(unet.call(x, tensor(new double[] { 10, 10 }), ctx)).all().item<bool>(), "int64 and float timesteps differ");
            Assert.True(y.eq(unet.call(x, tensor(10L), ctx)).all().item<bool>(), "a scalar timestep is not broadcast");
            Assert.True(y.eq(unet.call(x, tensor(new long[] { 10 }), ctx)).all().item<bool>(), "a [1] timestep is not broadcast");
            Assert.False(y.eq(unet.call(x, tensor(new long[] { 11, 11 }), ctx)).all().item<bool>(), "the timestep has no effect");
            Assert.False(y.eq(unet.call(x, tensor(new long[] { 10, 10 }), ctx + 1)).all().item<bool>(), "the prompt has no effect");
        }
    }

    [Fact]
    public void EachSampleOfABatchIsPredictedIndependently()
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var unet = s_unet.Value;
            var x = randn(3, 4, 16, 16);
            var t = tensor(new long[] { 1, 500, 999 });
            var ctx = randn(3, 5, 32);
            var batched = unet.call(x, t, ctx);
            for (int i = 0; i < 3; i++)
            {
                var single = unet.call(x[i..(i + 1)], t[i..(i + 1)], ctx[i..(i + 1)]);
                Assert.True(allclose(batched[i..(i + 1)], single, rtol: 1e-4, atol: 1e-5), $"sample {i} depends on the rest of the batch");
            }
        }
    }

    [Theory]
    [InlineData(33, 31)]
    [InlineData(9, 16)]
    [InlineData(1, 1)]
    public void OddSizesUseSizeMatchedUpsamplingAndKeepTheShape(int height, int width)
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var y = s_unet.Value.call(randn(1, 4, height, width), tensor(new long[] { 3 }), randn(1, 4, 32));
            Assert.Equal(new long[] { 1, 4, height, width }, y.shape);
        }
    }

    [Fact]
    public void WrongInputsAreRejectedWithTheExpectedShapeNamed()
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            var unet = s_unet.Value;
            var ex = Assert.Throws<ArgumentException>(() => unet.call(randn(1, 3, 8, 8), tensor(new long[] { 1 }), randn(1, 4, 32)));
            Assert.Contains("in_channels = 4", ex.Message);
            ex = Assert.Throws<ArgumentException>(() => unet.call(randn(1, 4, 8, 8), tensor(new long[] { 1 }), randn(1, 4, 768)));
            Assert.Contains("cross_attention_dim = 32", ex.Message);
            ex = Assert.Throws<ArgumentException>(() => unet.call(randn(2, 4, 8, 8), tensor(new long[] { 1, 2, 3 }), randn(2, 4, 32)));
            Assert.Contains("timesteps", ex.Message);
            Assert.Throws<ArgumentException>(() => unet.call(randn(2, 4, 8, 8), tensor(new long[] { 1, 2 }), randn(1, 4, 32)));
        }
    }

    [Fact]
    public void TheTinyVaeEncodesToLatentsAndDecodesBack()
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var vae = s_vae.Value;
            var images = rand(2, 3, 64, 64) * 2 - 1;
            using var posterior = vae.Encode(images);
            Assert.Equal(new long[] { 2, 4, 32, 32 }, posterior.Mean.shape);
            Assert.True(posterior.LogVar.ge(-30).all().item<bool>() && posterior.LogVar.le(20).all().item<bool>());
            var decoded = vae.Decode(posterior.Mean);
            Assert.Equal(images.shape, decoded.shape);
            Assert.True(isfinite(decoded).all().item<bool>());
            Assert.True(decoded.eq(vae.call(images)).all().item<bool>(), "forward is not decode(encode(x).mode)");
            Assert.Equal(0.18215, vae.ScalingFactor);
            // Per-sample: GroupNorm and attention never mix the batch.
            using var first = vae.Encode(images[..1]);
            Assert.True(allclose(first.Mean, posterior.Mean[..1], rtol: 1e-4, atol: 1e-5));
        }
    }

    [Fact]
    public void TheVaeRoundsOddSizesDownAndRejectsWrongChannels()
    {
        lock (s_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var vae = s_vae.Value;
            using var posterior = vae.Encode(randn(1, 3, 33, 35));
            Assert.Equal(new long[] { 1, 4, 16, 17 }, posterior.Mean.shape);
            Assert.Equal(new long[] { 1, 3, 32, 34 }, vae.Decode(posterior.Mean).shape);
            Assert.Throws<ArgumentException>(() => vae.Encode(randn(1, 4, 32, 32)));
            Assert.Throws<ArgumentException>(() => vae.Decode(randn(1, 3, 16, 16)));
        }
    }

    [Fact]
    public void EveryGroupNormStartsAsTheIdentityAffine()
    {
        lock (s_lock)
        {
            int count = 0;
            foreach (var (name, module) in s_vae.Value.named_modules().Concat(s_unet.Value.named_modules()))
            {
                if (module is not TorchSharp.Modules.GroupNorm gn) continue;
                count++;
                Assert.True(gn.weight!.eq(1).all().item<bool>(), $"{name}.weight");
                Assert.True(gn.bias!.eq(0).all().item<bool>(), $"{name}.bias");
            }
            Assert.True(count > 20, $"found only {count} GroupNorms");
        }
    }
}
