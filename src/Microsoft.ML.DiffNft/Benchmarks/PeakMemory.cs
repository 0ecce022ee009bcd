using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.DiffNft.Benchmarks;

/// <summary>A peak memory figure and what it measures.</summary>
/// <param name="MiB">Mebibytes.</param>
/// <param name="Source">
/// <c>cuda_device_used</c>: memory in use on the GPU (total − free from the CUDA driver) — torch's caching allocator keeps
/// what it reserved, so after a run this is its peak reservation, plus the CUDA context and any other process on the GPU;
/// <c>process_peak_rss</c>: the process's peak resident memory (VmHWM), which on a CPU holds every tensor.
/// </param>
internal sealed record PeakMemoryReading(double MiB, string Source);

/// <summary>
/// Peak memory of the running process for benchmarks. TorchSharp 0.107 exposes none of torch's CUDA memory statistics
/// (no <c>max_memory_allocated</c>), so on a GPU the driver's used-memory count stands in for it.
/// </summary>
internal static class PeakMemory
{
    /// <summary>The reading for <paramref name="device"/>: the GPU's used memory on CUDA when the driver answers, else the process's peak RSS.</summary>
    public static PeakMemoryReading Read(torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.type == DeviceType.CUDA && CudaUsedBytes() is { } used)
            return new PeakMemoryReading(used / (1024.0 * 1024.0), "cuda_device_used");
        return new PeakMemoryReading(ProcessPeakRssBytes() / (1024.0 * 1024.0), "process_peak_rss");
    }

    /// <summary>VmHWM of /proc/self/status in bytes; the current working set where /proc is absent (not Linux).</summary>
    public static long ProcessPeakRssBytes()
    {
        const string file = "/proc/self/status";
        if (File.Exists(file))
        {
            foreach (string line in File.ReadLines(file))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                // "VmHWM:	  123456 kB"
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], out long kb)) return kb * 1024;
            }
        }
        return Environment.WorkingSet;
    }

    /// <summary>
    /// total − free of the current CUDA context from the driver (<c>cuMemGetInfo_v2</c>), or null when the driver library
    /// or a current context is missing. torch makes its primary context current on the thread that ran CUDA work.
    /// </summary>
    private static long? CudaUsedBytes()
    {
        try
        {
            return CuMemGetInfo(out nuint free, out nuint total) == 0 ? (long)(total - free) : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libcuda.so.1", EntryPoint = "cuMemGetInfo_v2")]
    private static extern int CuMemGetInfo(out nuint free, out nuint total);
}
