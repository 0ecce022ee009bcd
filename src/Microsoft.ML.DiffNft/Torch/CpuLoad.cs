using System.Diagnostics;
using System.Globalization;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// One reading of the machine's CPU time counters and of this process's own (Linux <c>/proc</c>): the difference of two
/// readings says how many cores other processes kept busy in between.
/// </summary>
/// <param name="Seconds">A monotonic clock, in seconds.</param>
/// <param name="Cores">The number of CPUs the counters cover.</param>
/// <param name="BusyTicks">Ticks all CPUs spent busy (user, nice, system, irq, softirq, steal).</param>
/// <param name="TotalTicks">Ticks all CPUs spent in any state (busy, idle, iowait).</param>
/// <param name="SelfTicks">Ticks this process spent on any CPU (user and system).</param>
internal readonly record struct CpuSample(double Seconds, int Cores, long BusyTicks, long TotalTicks, long SelfTicks);

/// <summary>
/// How many cores are free for this process's torch threads. libtorch splits every operation across its intra-op threads
/// and waits for the slowest one, so with more threads than free cores (another training on the same 2-core machine) each
/// operation is 5–15× slower than with one thread per free core; choosing the count from the measured load avoids that.
/// </summary>
internal static class CpuLoad
{
    /// <summary>
    /// Reads the counters, or null where they cannot be read or do not describe the cores this process may use (not
    /// Linux; a container whose <c>/proc/stat</c> shows the host's CPUs while a quota or affinity limits this process).
    /// </summary>
    public static CpuSample? Read()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            var sample = Parse(File.ReadAllText("/proc/stat"), File.ReadAllText("/proc/self/stat"), Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency);
            return sample is { } s && s.Cores == Environment.ProcessorCount ? s : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Parses <c>/proc/stat</c> and <c>/proc/self/stat</c>; null when their format is not the expected one.</summary>
    public static CpuSample? Parse(string procStat, string selfStat, double seconds)
    {
        long busy = 0, total = 0;
        int cores = 0;
        bool sawTotal = false;
        foreach (var line in procStat.Split('\n'))
        {
            if (!line.StartsWith("cpu", StringComparison.Ordinal)) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[0] != "cpu")
            {
                cores++;
                continue;
            }
            // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already counted in user.
            if (fields.Length < 9) return null;
            long F(int i) => long.Parse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture);
            busy = F(1) + F(2) + F(3) + F(6) + F(7) + F(8);
            total = busy + F(4) + F(5);
            sawTotal = true;
        }
        // The command name in /proc/self/stat may hold spaces and parentheses: fields are counted after the last ')'.
        int close = selfStat.LastIndexOf(')');
        if (!sawTotal || cores == 0 || close < 0) return null;
        var rest = selfStat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
        if (rest.Length < 13) return null;
        long self = long.Parse(rest[11], NumberStyles.None, CultureInfo.InvariantCulture) + long.Parse(rest[12], NumberStyles.None, CultureInfo.InvariantCulture);
        return new CpuSample(seconds, cores, busy, total, self);
    }

    /// <summary>Cores that processes other than this one kept busy, on average, between two readings.</summary>
    public static double OthersBusyCores(CpuSample earlier, CpuSample later)
    {
        long total = later.TotalTicks - earlier.TotalTicks;
        if (total <= 0) return 0;
        long others = later.BusyTicks - earlier.BusyTicks - (later.SelfTicks - earlier.SelfTicks);
        return Math.Clamp((double)others / total * later.Cores, 0, later.Cores);
    }

    /// <summary>Threads for a given load: one per core not kept busy by others (rounded), at least one.</summary>
    public static int ThreadsFor(int cores, double othersBusyCores) =>
        Math.Clamp(cores - (int)Math.Round(othersBusyCores, MidpointRounding.AwayFromZero), 1, Math.Max(1, cores));
}
