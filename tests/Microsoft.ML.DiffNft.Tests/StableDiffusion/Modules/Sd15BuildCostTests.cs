using System.Diagnostics;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>
/// What building the real SD 1.5 UNet costs on the CPU, for float32 and float16 parameters (several seconds and GBs):
/// run with DIFFNFT_LONG_TESTS=1. The default run checks the same layout on the meta device instead (ParameterLayoutTests).
/// </summary>
public sealed class Sd15BuildCostTests(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("DIFFNFT_LONG_TESTS") == "1";

    [Theory]
    [InlineData(ScalarType.Float32, 4L)]
    [InlineData(ScalarType.Float16, 2L)]
    public void BuildingTheSd15UNetTakesItsParameterBytes(ScalarType dtype, long bytesPerParameter)
    {
        if (!Enabled)
        {
            output.WriteLine("Skipped: set DIFFNFT_LONG_TESTS=1 to build the real SD 1.5 UNet on the CPU.");
            return;
        }
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;
        var sw = Stopwatch.StartNew();
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.StableDiffusion15, new LayerFactory(DType: dtype));
        double seconds = sw.Elapsed.TotalSeconds;
        process.Refresh();
        long grown = process.WorkingSet64 - before;
        long count = unet.parameters().Sum(p => p.numel());
        output.WriteLine($"SD 1.5 UNet {dtype}: {seconds:F1} s, working set +{grown / 1e9:F2} GB (peak {process.PeakWorkingSet64 / 1e9:F2} GB), {count:N0} parameters");
        Assert.Equal(859_520_964L, count);
        Assert.All(unet.parameters(), p => Assert.Equal(dtype, p.dtype));
        // The parameters themselves, and not much more: no float32 copy is made on the way to float16.
        Assert.True(grown < count * bytesPerParameter * 1.25, $"grew {grown:N0} bytes for {count * bytesPerParameter:N0} bytes of parameters");
    }
}
