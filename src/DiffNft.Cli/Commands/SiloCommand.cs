using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.ML.DiffNft.Cluster;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft silo</c>: runs a silo of a DiffNft cluster until Ctrl+C or SIGTERM (docs/scale-out.md).</summary>
internal static class SiloCommand
{
    private static readonly DiffNftClusterOptions Defaults = new();

    public static Command Create()
    {
        var redis = new Option<string?>("--redis") { Description = "Redis connection string (HOST:PORT) for the cluster's membership; without it, localhost clustering (one machine)." };
        var clusterId = new Option<string>("--cluster-id") { Description = "Cluster id: silos and clients with the same id and membership form one cluster.", DefaultValueFactory = _ => Defaults.ClusterId };
        var name = new Option<string?>("--name") { Description = "This silo's name, unique in the cluster (default: host name and silo port)." };
        var siloPort = new Option<int>("--silo-port") { Description = "Port for silo-to-silo traffic.", DefaultValueFactory = _ => Defaults.SiloPort };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Port clients connect to.", DefaultValueFactory = _ => Defaults.GatewayPort };
        var primary = new Option<int>("--primary-port") { Description = "Localhost clustering: the primary silo's --silo-port (a silo with that port is the primary).", DefaultValueFactory = _ => Defaults.PrimarySiloPort };
        var address = new Option<string?>("--address") { Description = "Redis membership across machines: the IP address to advertise (listens on every interface); default loopback." };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe Orleans message to print.", DefaultValueFactory = _ => LogLevel.Warning };
        var command = new Command("silo",
            "Run a silo of a DiffNft cluster: it samples for fine-tuning jobs, may host a job's learner and runs sweep trials submitted with --cluster. " +
            "Every silo needs the jobs' files at the same paths, and shared output folders. Stops on Ctrl+C.")
        {
            redis, clusterId, name, siloPort, gatewayPort, primary, address, logLevel,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var options = new DiffNftClusterOptions
            {
                Redis = parse.GetValue(redis),
                ClusterId = parse.GetValue(clusterId)!,
                SiloName = parse.GetValue(name),
                SiloPort = parse.GetValue(siloPort),
                GatewayPort = parse.GetValue(gatewayPort),
                PrimarySiloPort = parse.GetValue(primary),
                Address = parse.GetValue(address),
            };
            var silo = DiffNftSilo.StartAsync(options, parse.GetValue(logLevel)).GetAwaiter().GetResult();
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"silo {silo.Name} joined cluster '{options.ClusterId}' ({(options.Redis is { } r ? $"Redis {r}" : $"localhost, primary port {options.PrimarySiloPort}")}; " +
                             $"silo port {options.SiloPort}, gateway port {options.GatewayPort}; process {Environment.ProcessId}); Ctrl+C leaves the cluster");
            output.Flush();
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
            {
                ctx.Cancel = true;
                stop.Cancel();
            });
            try
            {
                stop.Token.WaitHandle.WaitOne();
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            output.WriteLine($"silo {silo.Name} leaving the cluster");
            silo.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
