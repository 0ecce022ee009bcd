using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Cluster;

/// <summary>
/// A test of a real cluster (a Redis server and silo processes): skipped, saying so, unless <c>DIFFNFT_CLUSTER_TESTS=1</c>.
/// Run them with <c>DIFFNFT_CLUSTER_TESTS=1 dotnet test DiffNftGen.sln -c Release --filter Category=Cluster</c>.
/// </summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("DIFFNFT_CLUSTER_TESTS") != "1")
            Skip = "A cluster test (Redis and silo processes): set DIFFNFT_CLUSTER_TESTS=1 and filter Category=Cluster to run it.";
    }
}
