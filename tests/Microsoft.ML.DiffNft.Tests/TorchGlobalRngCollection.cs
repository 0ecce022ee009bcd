using Xunit;

namespace Microsoft.ML.DiffNft.Tests;

/// <summary>
/// Tests whose expectations depend on torch's single, process-wide random generator (seeded initial weights, global
/// <c>randn</c>). xunit runs test classes in parallel; these run alone so no other test draws from that generator
/// between a seed and the draws it should determine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalRngCollection
{
    public const string Name = "Torch global RNG";
}
