using System.CommandLine;
using Microsoft.ML.DiffNft.Cluster;

namespace DiffNft.Cli.Commands;

/// <summary>The <c>--cluster</c> option of <c>finetune</c> and <c>sweep</c>, and the connection it makes.</summary>
internal sealed class ClusterCliOptions
{
    public Option<string?> Cluster { get; } = new("--cluster")
    {
        Description = "Run on a DiffNft cluster (diffnft silo): redis=HOST:PORT, or localhost[:GATEWAYPORT,…]. Paths must be readable, and the output writable, on every silo.",
    };

    public Option<string> ClusterId { get; } = new("--cluster-id") { Description = "Cluster id of --cluster.", DefaultValueFactory = _ => new DiffNftClusterOptions().ClusterId };

    /// <summary>The cluster options of <c>--cluster</c>, or null when it is not given.</summary>
    public DiffNftClusterOptions? ToOptions(ParseResult parse) =>
        parse.GetValue(Cluster) is { } value ? DiffNftClusterOptions.Parse(value) with { ClusterId = parse.GetValue(ClusterId)! } : null;

    /// <summary>Connects, with the error saying which cluster could not be reached.</summary>
    public static DiffNftClusterClient Connect(DiffNftClusterOptions options, CancellationToken cancellationToken) =>
        DiffNftClusterClient.ConnectAsync(options, cancellationToken).GetAwaiter().GetResult();
}
