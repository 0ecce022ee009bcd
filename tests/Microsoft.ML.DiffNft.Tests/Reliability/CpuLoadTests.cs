using System.Diagnostics;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The thread count follows the cores other processes leave free: with a second CPU-bound process on a 2-core machine,
/// two torch threads made every operation wait for the slower one (quickstart 14:42 instead of 9:37, PPO cut to 4 of 16
/// iterations by its time cap).
/// </summary>
public sealed class CpuLoadTests(ITestOutputHelper output)
{
    private const string ProcStat = """
        cpu  1000 10 200 5000 40 0 30 20 0 0
        cpu0 500 5 100 2500 20 0 15 10 0 0
        cpu1 500 5 100 2500 20 0 15 10 0 0
        intr 12345 0 0
        ctxt 999
        """;

    [Fact]
    public void ParsesTheMachineCountersAndOwnTimeEvenWithSpacesInTheCommandName()
    {
        // utime (field 14) = 70, stime (field 15) = 30; the command name holds ") (" to fool a naive split.
        string self = "4242 (dotnet ) (x) R 1 2 3 4 5 6 7 8 9 10 70 30 0 0 20 0 9 0 100 200";
        var sample = CpuLoad.Parse(ProcStat, self, 12.5);
        Assert.Equal(new CpuSample(12.5, 2, 1000 + 10 + 200 + 0 + 30 + 20, 1260 + 5000 + 40, 100), sample);
    }

    [Theory]
    [InlineData("cpu 1 2 3\ncpu0 1 2 3 4 5 6 7 8\n")]    // too few fields
    [InlineData("intr 1 2\n")]                           // no cpu lines
    public void AnUnexpectedFormatGivesNoSample(string stat) =>
        Assert.Null(CpuLoad.Parse(stat, "1 (x) R 1 2 3 4 5 6 7 8 9 10 70 30", 0));

    [Theory]
    // cores, busy Δ, total Δ, self Δ → others' cores: two cores, 400 ticks in all; another process kept one core busy.
    [InlineData(2, 300, 400, 100, 1.0)]
    [InlineData(2, 100, 400, 100, 0.0)]    // only this process was busy
    [InlineData(2, 400, 400, 0, 2.0)]      // others filled both cores
    [InlineData(2, 50, 400, 100, 0.0)]     // counters of different granularity: never negative
    public void OthersBusyCoresIsTheBusyTimeThatIsNotOurs(int cores, long busy, long total, long self, double expected)
    {
        var a = new CpuSample(0, cores, 1000, 5000, 10);
        var b = new CpuSample(2, cores, 1000 + busy, 5000 + total, 10 + self);
        Assert.Equal(expected, CpuLoad.OthersBusyCores(a, b), 9);
    }

    [Theory]
    [InlineData(2, 0.0, 2)]
    [InlineData(2, 0.4, 2)]
    [InlineData(2, 0.5, 1)]
    [InlineData(2, 1.0, 1)]
    [InlineData(2, 2.0, 1)]    // a saturated machine still gets one thread
    [InlineData(16, 3.2, 13)]
    public void OneThreadPerFreeCoreAndAtLeastOne(int cores, double others, int threads) =>
        Assert.Equal(threads, CpuLoad.ThreadsFor(cores, others));

    [Fact]
    public void ABusyProcessBesideThisOneIsMeasured()
    {
        if (CpuLoad.Read() is not { } before)
        {
            output.WriteLine("Skipped: this machine's CPU counters cannot be read (not Linux, or a container whose /proc/stat shows other CPUs).");
            return;
        }
        using var busy = Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            Thread.Sleep(1500);
            var after = CpuLoad.Read()!.Value;
            // One core of busy loop; other tests of this run share the machine with it, so it gets at least half a core.
            Assert.InRange(CpuLoad.OthersBusyCores(before, after), 0.5, before.Cores);
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit();
        }
    }
}
