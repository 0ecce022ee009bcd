using System.Runtime.CompilerServices;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Tests;

/// <summary>
/// xunit runs test collections in parallel, one per core; each test's torch work then gets one intra-op thread, because
/// libtorch operations that split over more threads than free cores wait for their slowest thread and run several
/// times slower (docs/troubleshooting.md). <c>DIFFNFT_THREADS</c>, when set, still wins.
/// </summary>
internal static class TestThreading
{
#pragma warning disable CA2255 // A module initializer is exactly right here: it must run before any test touches torch.
    [ModuleInitializer]
    internal static void OneTorchThreadPerTest()
    {
        // Loading through TorchRuntime first also settles MKL's reproducibility before any test multiplies a matrix.
        TorchRuntime.EnsureLoaded();
        if (Environment.GetEnvironmentVariable(TorchRuntime.ThreadsVariable) is null)
            TorchRuntime.SetThreads(1);
    }
#pragma warning restore CA2255
}
