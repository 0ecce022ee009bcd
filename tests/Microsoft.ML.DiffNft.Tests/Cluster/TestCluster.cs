using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.ML.DiffNft.Tests.Reliability;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>
/// A cluster of separate processes on loopback for a test: a Redis server of its own (Debian's redis-server) holding the
/// membership, and <c>diffnft silo</c> processes, each with one torch thread. Disposing kills them all.
/// </summary>
internal sealed class TestCluster : IDisposable
{
    private readonly Process? _redis;
    private readonly List<(string Name, CliProcess Process)> _silos = new();

    private TestCluster(Process? redis, int redisPort, string clusterId)
    {
        _redis = redis;
        RedisPort = redisPort;
        ClusterId = clusterId;
    }

    public int RedisPort { get; }

    public string ClusterId { get; }

    /// <summary>The <c>--cluster</c> value for clients.</summary>
    public string ClusterArgument => _redis is null ? "localhost:" + string.Join(",", _gateways) : $"redis=localhost:{RedisPort}";

    private readonly List<int> _gateways = new();

    /// <summary>
    /// Starts <paramref name="silos"/> silos with localhost clustering (no Redis): s1 is the primary, the others join it.
    /// </summary>
    public static TestCluster StartLocalhost(int silos, string workingDirectory)
    {
        var cluster = new TestCluster(null, 0, "test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            int primary = FreePort();
            for (int i = 1; i <= silos; i++)
            {
                int siloPort = i == 1 ? primary : FreePort(), gateway = FreePort();
                cluster._gateways.Add(gateway);
                cluster._silos.Add(($"s{i}", CliProcess.Start(workingDirectory, "silo", "--cluster-id", cluster.ClusterId, "--name", $"s{i}",
                    "--silo-port", siloPort.ToString(), "--gateway-port", gateway.ToString(), "--primary-port", primary.ToString())));
                // The primary first: the others join it.
                if (i == 1) WaitForJoin("s1", cluster._silos[0].Process);
            }
            foreach (var (name, process) in cluster._silos) WaitForJoin(name, process);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts Redis and <paramref name="silos"/> silos named s1, s2, …; returns once every silo has joined.</summary>
    public static TestCluster Start(int silos, string workingDirectory)
    {
        const string server = "/usr/bin/redis-server";
        if (!File.Exists(server))
            throw new InvalidOperationException($"The cluster tests need {server} (Debian: apt-get install redis-server; .ci/run installs it).");
        int port = FreePort();
        var redis = Process.Start(new ProcessStartInfo(server, ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        redis.BeginOutputReadLine();
        redis.BeginErrorReadLine();
        var cluster = new TestCluster(redis, port, "test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            WaitForPort(port, TimeSpan.FromSeconds(20), "redis-server");
            for (int i = 1; i <= silos; i++) cluster.StartSilo($"s{i}", workingDirectory);
            foreach (var (name, process) in cluster._silos) WaitForJoin(name, process);
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
        return cluster;
    }

    /// <summary>The silo named <paramref name="name"/>.</summary>
    public CliProcess Silo(string name) => _silos.First(s => s.Name == name).Process;

    /// <summary>Names of the silos still running.</summary>
    public IReadOnlyList<string> Running => _silos.Where(s => !s.Process.HasExited).Select(s => s.Name).ToList();

    private void StartSilo(string name, string workingDirectory) =>
        _silos.Add((name, CliProcess.Start(workingDirectory, "silo", "--redis", $"localhost:{RedisPort}", "--cluster-id", ClusterId, "--name", name,
            "--silo-port", FreePort().ToString(), "--gateway-port", FreePort().ToString())));

    private static void WaitForJoin(string name, CliProcess silo)
    {
        var clock = Stopwatch.StartNew();
        while (!silo.Stdout.Contains($"silo {name} joined cluster"))
        {
            if (silo.HasExited) throw new InvalidOperationException($"Silo {name} exited before joining.\n{silo.Stdout}\n{silo.Stderr}");
            if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException($"Silo {name} did not join within a minute.\n{silo.Stdout}\n{silo.Stderr}");
            Thread.Sleep(100);
        }
    }

    private static void WaitForPort(int port, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every silo's output, for a failing test's message.</summary>
    public string Logs => string.Join("\n", _silos.Select(s => $"--- {s.Name}\n{s.Process.Stdout}{s.Process.Stderr}"));

    public void Dispose()
    {
        // Silos first: a silo whose Redis is gone hangs in shutdown (they are killed anyway).
        foreach (var (_, process) in _silos) process.Dispose();
        if (_redis is null) return;
        try
        {
            if (!_redis.HasExited) _redis.Kill();
            _redis.WaitForExit();
        }
        finally
        {
            _redis.Dispose();
        }
    }
}
