using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// The rarity package stands alone: no TorchSharp, SkiaSharp or image analytics among its references; images come from
/// the main package when it is deployed; the rarity-only example needs no namespace but <c>Microsoft.ML</c>.
/// </summary>
public sealed class RarityPackageTests
{
    [Fact]
    public void TheRarityAssemblyReferencesNeitherTorchNorImaging()
    {
        var references = typeof(TraitRarityEstimator).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("Microsoft.ML.Data", references);
        foreach (var banned in new[] { "TorchSharp", "SkiaSharp", "Microsoft.ML.ImageAnalytics", "Microsoft.ML.DiffNft" })
            Assert.DoesNotContain(banned, references);
    }

    [Fact]
    public void TheMainPackageSuppliesImagesWhenDeployed()
    {
        // The tests deploy Microsoft.ML.DiffNft, so the rarity package finds its image support by name.
        Assert.IsType<SkiaImageSupport>(ImageSupport.Current);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadNftCollection(Path.Combine(AppContext.BaseDirectory, "data", "cryptoadz"));
        var image = data.Schema["Image"];
        Assert.Equal(typeof(Microsoft.ML.Data.MLImage), image.Type.RawType);
    }

    [Fact]
    public void TheRarityOnlyExampleUsesOnlyTheMicrosoftMLNamespace()
    {
        string program = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "examples", "RarityPipeline", "Program.cs"));
        var usings = program.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("using ", StringComparison.Ordinal) && l.EndsWith(';')).ToArray();
        Assert.Equal(["using Microsoft.ML;"], usings);
        string project = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "examples", "RarityPipeline", "RarityPipeline.csproj"));
        Assert.Contains("Microsoft.ML.DiffNft.Rarity.csproj", project);
        Assert.DoesNotContain("Microsoft.ML.DiffNft.csproj", project);
    }
}
