namespace Microsoft.ML.DiffNft.Tests;

/// <summary>The repository's folder, found from wherever the tests run (for examples, models and sources they check).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DiffNftGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("DiffNftGen.sln was not found above the test's folder.");
    });

    /// <summary>The folder holding DiffNftGen.sln.</summary>
    public static string Root => s_root.Value;
}
