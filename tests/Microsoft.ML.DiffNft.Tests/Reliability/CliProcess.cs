using System.Diagnostics;
using System.Text;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The <c>diffnft</c> command as a separate process (the build copies it beside the tests), for what an in-process run
/// cannot show: <c>kill -9</c> at an arbitrary moment, and two runs at once.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();

    private CliProcess(Process process) => _process = process;

    /// <summary>The apphost beside the test assembly.</summary>
    public static string Executable => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "diffnft.exe" : "diffnft");

    /// <summary>Starts <c>diffnft ARGS</c> in <paramref name="workingDirectory"/> with one torch thread.</summary>
    public static CliProcess Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(Executable, args)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        info.Environment["DIFFNFT_THREADS"] = "1";
        var process = new Process { StartInfo = info };
        var cli = new CliProcess(process);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (cli._stderr) cli._stderr.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (cli._stdout) cli._stdout.AppendLine(e.Data); };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return cli;
    }

    /// <summary>Runs to the end and returns the exit code with both outputs.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string workingDirectory, params string[] args)
    {
        using var cli = Start(workingDirectory, args);
        int code = cli.WaitForExit(TimeSpan.FromMinutes(10));
        return (code, cli.Stdout, cli.Stderr);
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public bool HasExited => _process.HasExited;

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Sends SIGKILL now (what <c>kill -9</c> sends) and waits for the process to end.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Waits for the exit and returns the code; a process still running after <paramref name="timeout"/> is killed and fails the test.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"diffnft {string.Join(' ', _process.StartInfo.ArgumentList)} ran longer than {timeout}.\n{Stderr}");
        }
        _process.WaitForExit();    // drains the redirected outputs
        return _process.ExitCode;
    }

    /// <summary>
    /// Sends SIGKILL (what <c>kill -9</c> sends: no handler runs, nothing is flushed) as soon as <paramref name="when"/>
    /// holds; returns false when the process ended first.
    /// </summary>
    public bool KillWhen(Func<CliProcess, bool> when, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!when(this))
        {
            if (_process.HasExited) return false;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"The kill condition did not hold within {timeout}.\n{Stderr}");
            Thread.Sleep(20);
        }
        if (_process.HasExited) return false;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
