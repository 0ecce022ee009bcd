using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// A silo of a DiffNft cluster: it hosts a sampler for fine-tuning jobs, may host a job's learner, and runs sweep parts.
/// Jobs load their models from the paths they name, so every silo needs the same files at the same paths (a shared
/// folder, or copies), and the output folders must be shared: a learner's checkpoint is what a survivor resumes from.
/// </summary>
public sealed class DiffNftSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private DiffNftSilo(IHost host, string name)
    {
        _host = host;
        Name = name;
    }

    /// <summary>The silo's name in the cluster.</summary>
    public string Name { get; }

    /// <summary>Starts a silo and returns once it has joined the cluster.</summary>
    /// <param name="options">Membership, name and ports.</param>
    /// <param name="logLevel">Least severe Orleans message to write to the console (default: warnings).</param>
    /// <param name="cancellationToken">Stops waiting for the silo to start.</param>
    public static async Task<DiffNftSilo> StartAsync(DiffNftClusterOptions options, LogLevel logLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ClusterHosting.ConfigureLogging(builder.Logging, logLevel);
        builder.UseOrleans(silo => ClusterHosting.ConfigureSilo(silo, options));
        var host = builder.Build();
        // Joining takes seconds; a silo that cannot reach the membership (or the primary silo) would otherwise retry for minutes.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await host.StartAsync(deadline.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            string where = options.Redis is { } r ? $"Redis {r}" : $"localhost clustering, primary silo port {options.PrimarySiloPort}";
            string why = ex is OperationCanceledException ? "it did not join within 90 s" : ProgressLines.FirstLine(ex.Message).TrimEnd('.');
            throw new InvalidOperationException($"Silo {options.EffectiveSiloName} could not join the cluster '{options.ClusterId}' ({where}; silo port {options.SiloPort}, gateway port {options.GatewayPort}): {why}", ex);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new DiffNftSilo(host, options.EffectiveSiloName);
    }

    /// <summary>Leaves the cluster cleanly: the others stop using this silo at once instead of after missed probes.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _host.StopAsync(cancellationToken);

    /// <summary>Waits until the host is asked to stop (Ctrl+C, SIGTERM) and stops it.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _host.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
