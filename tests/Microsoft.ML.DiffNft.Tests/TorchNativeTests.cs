using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests;

/// <summary>Proof that the TorchSharp native library loads on this machine and computes correct numbers.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public class TorchNativeTests
{
    [Fact]
    public void MatmulMatchesHandComputedProduct()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        var b = tensor(new float[] { 7, 8, 9, 10, 11, 12 }, new long[] { 3, 2 });
        var c = matmul(a, b).data<float>().ToArray();
        Assert.Equal(new float[] { 58, 64, 139, 154 }, c);
    }

    [Fact]
    public void Conv2dMatchesDirectSummation()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var rng = new Random(3);
        int cin = 2, cout = 3, h = 5, w = 6, k = 3;
        var x = new float[cin * h * w];
        var wt = new float[cout * cin * k * k];
        var bias = new float[cout];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < wt.Length; i++) wt[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < bias.Length; i++) bias[i] = (float)(rng.NextDouble() * 2 - 1);

        var y = nn.functional.conv2d(
            tensor(x, new long[] { 1, cin, h, w }),
            tensor(wt, new long[] { cout, cin, k, k }),
            tensor(bias), padding: new long[] { 1, 1 });
        Assert.Equal(new long[] { 1, cout, h, w }, y.shape);
        var got = y.data<float>().ToArray();

        for (int o = 0; o < cout; o++)
        for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
        {
            double s = bias[o];
            for (int c = 0; c < cin; c++)
            for (int di = 0; di < k; di++)
            for (int dj = 0; dj < k; dj++)
            {
                int yi = i + di - 1, xj = j + dj - 1;
                if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
                s += x[(c * h + yi) * w + xj] * wt[((o * cin + c) * k + di) * k + dj];
            }
            Assert.Equal(s, got[(o * h + i) * w + j], 4);
        }
    }

    [Fact]
    public void SeedingMakesRandomNumbersReproducible()
    {
        TorchRuntime.Seed(42);
        using var a = randn(8);
        TorchRuntime.Seed(42);
        using var b = randn(8);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }
}

/// <summary>The device and seed policy of <see cref="TorchRuntime"/>.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public class TorchRuntimeTests
{
    [Fact]
    public void SeededMLContextsGiveTheSameTorchNumbers()
    {
        float[] Draw(int seed)
        {
            var host = ((Microsoft.ML.Runtime.IHostEnvironment)new MLContext(seed)).Register("test");
            TorchRuntime.SeedFrom(host);
            using var t = randn(16);
            return t.data<float>().ToArray();
        }

        Assert.Equal(Draw(5), Draw(5));
        Assert.NotEqual(Draw(5), Draw(6));
    }

    [Fact]
    public void CpuResolvesToCpuAndCudaFailsClearlyWithoutADevice()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.Resolve(DiffNftDevice.Cpu).type);
        if (cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, TorchRuntime.Resolve(DiffNftDevice.Cuda).type);
            return;
        }
        var ex = Assert.Throws<InvalidOperationException>(() => TorchRuntime.Resolve(DiffNftDevice.Cuda));
        Assert.Contains("TorchSharp-cuda-linux", ex.Message);
        Assert.Equal(DeviceType.CPU, TorchRuntime.Resolve(DiffNftDevice.Auto).type);
    }

    [Fact]
    public void ThreadCountMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.SetThreads(0));
    }

    [Fact]
    public void AFloat64MatrixProductGivesTheSameBitsWhereverItsOperandsLie()
    {
        // KID's kernel matrices are such products; without MKL_CBWR=AUTO (set by TorchRuntime before torch loads) half
        // of these 2,000 products differed from the first in the last bit, following the allocator's addresses.
        TorchRuntime.EnsureLoaded();
        var rng = new Random(1);
        var data = Enumerable.Range(0, 8 * 512).Select(_ => rng.NextDouble() * 3).ToArray();
        double[]? first = null;
        int differing = 0;
        using var scope = NewDisposeScope();
        for (int i = 0; i < 2000; i++)
        {
            _ = zeros(rng.Next(1, 300), dtype: ScalarType.Float64); // moves the next allocation
            using var x = tensor(data, [8, 512], dtype: ScalarType.Float64);
            var product = (x.matmul(x.t()) / 512.0 + 1).pow(3).data<double>().ToArray();
            if (first is null) first = product;
            else if (!product.SequenceEqual(first)) differing++;
        }
        Assert.Equal(0, differing);
    }
}
