using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>The one place silos and clients are configured from <see cref="DiffNftClusterOptions"/>.</summary>
internal static class ClusterHosting
{
    /// <summary>The Orleans service id of every DiffNft cluster (the cluster id tells clusters apart).</summary>
    public const string ServiceId = "diffnft";

    /// <summary>
    /// How long a call may wait for its answer: a sampler's chunk of a large model takes minutes on a CPU. A dead silo's
    /// calls fail as soon as the membership declares it dead, not after this.
    /// </summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Largest message: a chunk of trajectories of a large model is tens of megabytes (docs/scale-out.md).</summary>
    public const int MaxMessageBodyBytes = 1 << 30;

    public static void ConfigureSilo(ISiloBuilder silo, DiffNftClusterOptions o)
    {
        o.Validate();
        var address = IPAddress.Loopback;
        if (o.Redis is { } redis)
        {
            silo.UseRedisClustering(redis);
            address = o.Address is { } a ? IPAddress.Parse(a) : address;
            silo.ConfigureEndpoints(address, o.SiloPort, o.GatewayPort, listenOnAnyHostAddress: o.Address is not null);
            silo.Configure<ClusterOptions>(c => (c.ClusterId, c.ServiceId) = (o.ClusterId, ServiceId));
        }
        else
            silo.UseLocalhostClustering(o.SiloPort, o.GatewayPort, new IPEndPoint(IPAddress.Loopback, o.PrimarySiloPort), ServiceId, o.ClusterId);
        silo.Configure<SiloOptions>(s => s.SiloName = o.EffectiveSiloName);
        silo.Configure<ClusterMembershipOptions>(m =>
        {
            m.ProbeTimeout = o.ProbeTimeout;
            m.NumMissedProbesLimit = o.MissedProbesLimit;
            m.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            m.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            m.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
            // One vote is enough where there are only two or three silos to vote.
            m.NumVotesForDeathDeclaration = 1;
        });
        silo.Configure<SiloMessagingOptions>(m =>
        {
            m.ResponseTimeout = ResponseTimeout;
            m.SystemResponseTimeout = TimeSpan.FromSeconds(30);
            m.MaxMessageBodySize = MaxMessageBodyBytes;
        });
        silo.AddPlacementDirector<SiloNamePlacement, SiloNamePlacementDirector>();
        // The linearizable directory (Orleans 9+, opt-in): with the default one, a dead silo takes the directory entries
        // it held with it, and grains registered there (a learner on a live silo) are deactivated and activated again.
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
    }

    public static void ConfigureClient(IClientBuilder client, DiffNftClusterOptions o)
    {
        o.Validate();
        if (o.Redis is { } redis)
        {
            client.UseRedisClustering(redis);
            client.Configure<ClusterOptions>(c => (c.ClusterId, c.ServiceId) = (o.ClusterId, ServiceId));
        }
        else
        {
            var gateways = (o.Gateways ?? new[] { o.GatewayPort }).ToArray();
            client.UseLocalhostClustering(gateways, ServiceId, o.ClusterId);
        }
        client.Configure<ClientMessagingOptions>(m =>
        {
            // A client's call to a silo that died is not failed when the silo is declared dead, only at this timeout; the
            // client's calls are all short (start, status, cancel), so a short timeout moves work on quickly.
            m.ResponseTimeout = TimeSpan.FromSeconds(10);
            m.MaxMessageBodySize = MaxMessageBodyBytes;
        });
        client.Configure<GatewayOptions>(g => g.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
    }

    /// <summary>Orleans logs at Information are chatty: warnings and errors only, one line each, with a time stamp.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging, LogLevel orleansLevel)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.TimestampFormat = "HH:mm:ss ";
        });
        logging.SetMinimumLevel(orleansLevel);
        logging.AddFilter("Microsoft.ML.DiffNft", LogLevel.Information);
        // A host that fails to start logs the exception with its stack; the caller reports it in one line instead.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        // A silo not running with server GC says so at every start, and one that fails to start logs the exception with its
        // stack (the caller reports it in one line); the watchdog reports a stale timer at startup.
        logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Critical);
        logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
    }
}
