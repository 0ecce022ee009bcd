using Microsoft.ML.Runtime;
using TorchSharp;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>Which device DiffNft components run their networks on.</summary>
public enum DiffNftDevice
{
    /// <summary>CUDA when the native backend supports it, otherwise CPU.</summary>
    Auto,
    /// <summary>Always the CPU.</summary>
    Cpu,
    /// <summary>The first CUDA device; an error when none is available.</summary>
    Cuda,
}

/// <summary>
/// The one place that decides the torch device, the thread count and the torch seed for every DiffNft component.
/// </summary>
internal static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _threadsSet;

    /// <summary>
    /// Loads the TorchSharp native library, or throws an <see cref="InvalidOperationException"/> that says what to do.
    /// </summary>
    public static void EnsureLoaded()
    {
        MklReproducibility.Apply();
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            throw new InvalidOperationException(
                "TorchSharp's native library could not be loaded. The application must reference a native backend " +
                "package (libtorch-cpu-linux-x64 for CPU, TorchSharp-cuda-linux for NVIDIA GPUs). On Debian 12 or " +
                "Ubuntu 22.04, build the application (not just restore it) so that the DiffNft build step can apply " +
                "the libstdc++ fix; see docs/troubleshooting.md. Inner error: " + ex.Message, ex);
        }
        lock (Gate)
        {
            if (!_threadsSet)
            {
                // DIFFNFT_THREADS fixes the count; otherwise one thread per free core, measured now over a short window and
                // again during long runs (FitThreadsToLoad): with more threads than free cores, every libtorch operation
                // waits for its slowest thread and runs 5–15× slower than with one thread per free core.
                _threadsSet = true;
                if (ThreadsFromEnvironment() is { } fixedCount)
                {
                    torch.set_num_threads(fixedCount);
                    _threadsFixed = true;
                }
                else
                {
                    _lastSample = CpuLoad.Read();
                    if (_lastSample is not null) Thread.Sleep(InitialWindow);
                    Refit(force: true);
                }
            }
        }
    }

    // The first measurement's window (at the first torch use) and the least time between two re-measurements.
    private static readonly TimeSpan InitialWindow = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan RefitInterval = TimeSpan.FromSeconds(2);
    private static bool _threadsFixed;
    private static CpuSample? _lastSample;

    /// <summary>The intra-op thread count torch uses now.</summary>
    public static int Threads
    {
        get
        {
            EnsureLoaded();
            return torch.get_num_threads();
        }
    }

    /// <summary>
    /// True when the thread count follows the measured load (<see cref="FitThreadsToLoad"/>); false when
    /// <c>DIFFNFT_THREADS</c> or <see cref="SetThreads"/> fixed it, or the load cannot be measured here.
    /// </summary>
    public static bool ThreadsFollowLoad
    {
        get
        {
            EnsureLoaded();
            lock (Gate) return !_threadsFixed && _lastSample is not null;
        }
    }

    /// <summary>
    /// Re-measures the load (at most every 2 s; cheap otherwise) and sets one torch thread per core that other processes
    /// leave free. Long loops call it once per step or batch, so a run that starts beside another training, or sees one
    /// start or finish, keeps one thread per free core. Does nothing when <c>DIFFNFT_THREADS</c> or
    /// <see cref="SetThreads"/> fixed the count, or where the load cannot be measured (not Linux).
    /// </summary>
    public static void FitThreadsToLoad()
    {
        EnsureLoaded();
        lock (Gate) Refit(force: false);
    }

    // Caller holds Gate.
    private static void Refit(bool force)
    {
        if (_threadsFixed) return;
        var now = CpuLoad.Read();
        if (now is not { } later || _lastSample is not { } earlier)
        {
            if (force) torch.set_num_threads(Math.Max(1, Environment.ProcessorCount));
            _lastSample = now;
            return;
        }
        if (!force && later.Seconds - earlier.Seconds < RefitInterval.TotalSeconds) return;
        int threads = CpuLoad.ThreadsFor(later.Cores, CpuLoad.OthersBusyCores(earlier, later));
        if (force || threads != torch.get_num_threads()) torch.set_num_threads(threads);
        _lastSample = later;
    }

    /// <summary>Name of the environment variable that sets the intra-op thread count (default: one per core).</summary>
    public const string ThreadsVariable = "DIFFNFT_THREADS";

    /// <summary>The thread count <c>DIFFNFT_THREADS</c> fixes, or null when it is not set.</summary>
    public static int? ThreadsFromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(ThreadsVariable);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!int.TryParse(text, out int n) || n < 1)
            throw new InvalidOperationException($"Environment variable {ThreadsVariable}='{text}' must be a positive whole number of threads.");
        return n;
    }

    /// <summary>Resolves a device request to a concrete torch device.</summary>
    /// <param name="device">The requested device.</param>
    public static torch.Device Resolve(DiffNftDevice device)
    {
        EnsureLoaded();
        switch (device)
        {
            case DiffNftDevice.Cpu:
                return torch.CPU;
            case DiffNftDevice.Cuda:
                if (!torch.cuda.is_available())
                    throw new InvalidOperationException(
                        "DiffNftDevice.Cuda was requested but no CUDA device is available. Reference TorchSharp-cuda-linux " +
                        "in the application (build with -p:DiffNftTorchBackend=cuda in this repository) and check the driver.");
                return torch.CUDA;
            default:
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        }
    }

    /// <summary>Sets the number of intra-op threads torch uses (at least 1), from now on regardless of the load.</summary>
    /// <param name="threads">Thread count.</param>
    public static void SetThreads(int threads)
    {
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "The thread count must be at least 1.");
        EnsureLoaded();
        lock (Gate)
        {
            torch.set_num_threads(threads);
            _threadsSet = true;
            _threadsFixed = true;
        }
    }

    /// <summary>
    /// Seeds torch from an ML.NET host, so that a seeded <see cref="MLContext"/> gives deterministic networks.
    /// Returns the seed used.
    /// </summary>
    /// <param name="host">A host registered from the user's <see cref="MLContext"/>.</param>
    public static long SeedFrom(IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        long seed = host.Rand.Next();
        Seed(seed);
        return seed;
    }

    /// <summary>
    /// Seeds torch's global generators and runs <paramref name="create"/> (typically a network constructor, whose
    /// initial weights come from the global generator) while holding a process-wide lock, so that two DiffNft
    /// components initialising networks on different threads cannot interleave their draws. Code outside DiffNft
    /// that draws from torch's global generator at the same moment can still interfere: torch has one global generator.
    /// </summary>
    public static T Seeded<T>(long seed, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (SeedGate)
        {
            Seed(seed);
            return create();
        }
    }

    private static readonly object SeedGate = new();

    /// <summary>Seeds torch's global generators (CPU and, when present, CUDA).</summary>
    /// <param name="seed">The seed.</param>
    public static void Seed(long seed)
    {
        EnsureLoaded();
        torch.manual_seed(seed);
        if (torch.cuda.is_available())
            torch.cuda.manual_seed_all(seed);
    }
}
