using Microsoft.ML.DiffNft.Pipeline;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>
/// docs/api.md (written by scripts/api-index.py) names every type the packages export, and the main package's public
/// surface stays small: engine classes are internal, and users reach the work through the catalogs and options.
/// </summary>
public sealed class ApiIndexTests
{
    [Fact]
    public void TheApiIndexNamesEveryExportedType()
    {
        string index = Path.Combine(RepositoryPaths.Root, "docs", "api.md");
        Assert.True(File.Exists(index), $"{index} was not found.");
        string text = File.ReadAllText(index);
        // Compiler-generated types (the groupings of C# 14 extension members) have unspeakable names and are left out.
        var missing = typeof(QuickstartPipeline).Assembly.GetExportedTypes()
            .Concat(typeof(Microsoft.ML.DiffNft.Rarity.TraitRarityEstimator).Assembly.GetExportedTypes())
            .Concat(typeof(Microsoft.ML.DiffNft.Cluster.DiffNftClusterClient).Assembly.GetExportedTypes())
            .Where(t => !t.Name.Contains('<') && !t.Name.Contains('$'))
            .Select(t => (t.IsNested ? t.DeclaringType!.Name.Split('`')[0] + "." : "") + t.Name.Split('`')[0])
            .Distinct()
            .Where(name => !text.Contains($"| `{name}` |", StringComparison.Ordinal))
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToList();
        Assert.True(missing.Count == 0, $"docs/api.md lacks {string.Join(", ", missing)}; run scripts/api-index.py after building the library.");
    }

    [Fact]
    public void TheMainPackageExportsFewTypes()
    {
        // 64 today (docs/api.md lists them); the aim is 60. A new public type needs a user who calls it: the last one was
        // LatentOptions, which a user needs to train a latent model (DiffusionTrainerOptions.Latent).
        var exported = typeof(QuickstartPipeline).Assembly.GetExportedTypes().Where(t => !t.Name.Contains('<') && !t.Name.Contains('$')).ToList();
        Assert.InRange(exported.Count, 1, 64);
        Assert.DoesNotContain(exported, t => t.Name is "DiffusionModel" or "RarityRewardModel" or "DiffusionTrainer" or "DiffusionFineTuner"
            or "NftGenerationEvaluator" or "PngCodec" or "ModelArchive" or "AtomicFile");
    }
}
