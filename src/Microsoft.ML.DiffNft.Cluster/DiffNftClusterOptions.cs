using System.Globalization;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// How a silo or a client finds the cluster: Redis membership (<see cref="Redis"/> set; silos on any machines that reach
/// the Redis server and each other) or localhost clustering (one machine: every silo names the primary silo's port). A
/// silo also needs its own name and ports; a client needs only the membership (Redis) or the gateway ports (localhost).
/// </summary>
public sealed record DiffNftClusterOptions
{
    /// <summary>The Orleans cluster id: silos and clients with the same id and membership form one cluster.</summary>
    public string ClusterId { get; init; } = "diffnft";

    /// <summary>
    /// A StackExchange.Redis connection string (for example <c>localhost:6379</c>) for Redis membership; null for localhost
    /// clustering.
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>This silo's name: unique in the cluster, it names the silo in logs and places its sampler. Default: host name and port.</summary>
    public string? SiloName { get; init; }

    /// <summary>
    /// Redis membership: the IP address this silo advertises to the others and to clients (and listens on every
    /// interface); null: loopback, for silos that all run on this machine. Localhost clustering always uses loopback.
    /// </summary>
    public string? Address { get; init; }

    /// <summary>Port silos talk to each other on.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>Localhost clustering: the silo port of the primary silo, which every other silo joins (its own port makes it the primary).</summary>
    public int PrimarySiloPort { get; init; } = 11111;

    /// <summary>Localhost clustering: the gateway ports a client may connect to (default: <see cref="GatewayPort"/>).</summary>
    public IReadOnlyList<int>? Gateways { get; init; }

    /// <summary>
    /// How long a silo may miss probes before the others declare it dead: the time a job waits for a killed silo before it
    /// moves that silo's work. Orleans' default (about 15 s of missed probes, then votes) suits data centres; this default
    /// (about 6 s) suits a few machines on one network. Raise it where silos pause (heavy swapping).
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes that make a silo suspect another.</summary>
    public int MissedProbesLimit { get; init; } = 3;

    /// <summary>The silo name this process uses: <see cref="SiloName"/> or host-port.</summary>
    public string EffectiveSiloName => SiloName ?? $"{Environment.MachineName}-{SiloPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Parses the <c>--cluster</c> value of the command line: <c>redis=HOST:PORT[,…]</c> (a Redis connection string), or
    /// <c>localhost[:GATEWAY,GATEWAY…]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is neither form; the message shows both.</exception>
    public static DiffNftClusterOptions Parse(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        const string Forms = "expected redis=HOST:PORT (Redis membership) or localhost[:GATEWAYPORT,…] (one machine)";
        if (value.StartsWith("redis=", StringComparison.OrdinalIgnoreCase))
        {
            string redis = value["redis=".Length..];
            if (redis.Length == 0) throw new ArgumentException($"--cluster '{value}' names no Redis server; {Forms}.");
            return new DiffNftClusterOptions { Redis = redis };
        }
        if (value.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new DiffNftClusterOptions();
        if (value.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            var ports = new List<int>();
            foreach (string part in value["localhost:".Length..].Split(','))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
                    throw new ArgumentException($"--cluster '{value}': '{part}' is not a port (1–65535); {Forms}.");
                ports.Add(port);
            }
            return new DiffNftClusterOptions { Gateways = ports };
        }
        throw new ArgumentException($"--cluster '{value}' is not understood; {Forms}.");
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId)) throw new ArgumentException("A cluster id is required.", nameof(ClusterId));
        foreach (var (name, port) in new[] { (nameof(SiloPort), SiloPort), (nameof(GatewayPort), GatewayPort), (nameof(PrimarySiloPort), PrimarySiloPort) })
            if (port < 1 || port > 65535) throw new ArgumentOutOfRangeException(name, port, "A port lies in 1–65535.");
        if (EffectiveSiloName.Contains('/')) throw new ArgumentException($"Silo name '{EffectiveSiloName}' must not contain '/'.", nameof(SiloName));
        if (!(ProbeTimeout > TimeSpan.Zero)) throw new ArgumentOutOfRangeException(nameof(ProbeTimeout), ProbeTimeout, "Must be positive.");
        if (Address is { } a && !System.Net.IPAddress.TryParse(a, out _)) throw new ArgumentException($"Address '{a}' is not an IP address.", nameof(Address));
        if (MissedProbesLimit < 1) throw new ArgumentOutOfRangeException(nameof(MissedProbesLimit), MissedProbesLimit, "Must be positive.");
    }
}
