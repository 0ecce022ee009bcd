using System.Diagnostics;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Benchmarks;

/// <summary>
/// Measures the machine's float32 matmul rate (the ceiling that utilisation figures are divided by) in the same process
/// as the workload, because absolute rates on shared machines drift by 20–30 % between runs.
/// </summary>
internal static class MatmulCeiling
{
    /// <summary>
    /// Median GFLOP/s of an n×n×n float32 matmul over <paramref name="repeats"/> timed runs after warm-up. With
    /// <paramref name="n"/> = 0 the size suits the device: 1024 on a CPU, 8192 on a GPU (where 1024 measures launch latency).
    /// </summary>
    public static double MeasureGflops(int n = 0, int repeats = 9, DiffNftDevice device = DiffNftDevice.Cpu)
    {
        var dev = TorchRuntime.Resolve(device);
        if (n == 0) n = SizeFor(dev);
        if (n < 16) throw new ArgumentOutOfRangeException(nameof(n), n, "Use at least 16.");
        using var scope = NewDisposeScope();
        var a = randn(n, n, device: dev);
        var b = randn(n, n, device: dev);
        for (int i = 0; i < 3; i++) matmul(a, b).Dispose();
        var rates = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            using (var c = matmul(a, b))
            {
                if (dev.type == DeviceType.CUDA) cuda.synchronize();
            }
            rates.Add(2.0 * n * n * n / sw.Elapsed.TotalSeconds / 1e9);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }

    /// <summary>The matrix size <see cref="MeasureGflops"/> uses on a device when none is given.</summary>
    public static int SizeFor(torch.Device device) => device.type == DeviceType.CUDA ? 8192 : 1024;
}
