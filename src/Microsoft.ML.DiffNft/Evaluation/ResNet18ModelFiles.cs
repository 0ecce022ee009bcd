namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Finds the two ONNX files of the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.23.1: the ImageNet
/// ResNet-18 (<c>ResNet18Onnx/ResNet18.onnx</c>) and its preprocessing graph (<c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>).
/// </summary>
/// <remarks>
/// Search order, first match wins:
/// <list type="number">
/// <item>the folder given to <see cref="Find(string?)"/> (it holds <c>ResNet18Onnx/</c> and <c>ResNetPrepOnnx/</c>);</item>
/// <item>the folder named by the environment variable <c>DIFFNFT_RESNET18_DIR</c>;</item>
/// <item><c>DnnImageModels/</c> beside the application (<see cref="AppContext.BaseDirectory"/>) — the package's build
/// props copy the files there in every application that references Microsoft.ML.DiffNft, the packed <c>diffnft</c> tool included;</item>
/// <item><c>DnnImageModels/</c> beside the Microsoft.ML.DiffNft assembly;</item>
/// <item>the NuGet package cache: <c>$NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>, under
/// <c>microsoft.ml.dnnimagefeaturizer.resnet18/0.23.1/tools/DnnImageModels/</c>.</item>
/// </list>
/// </remarks>
internal sealed class ResNet18ModelFiles
{
    /// <summary>The package the files come from.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version this code was written and verified against.</summary>
    public const string PackageVersion = "0.23.1";

    /// <summary>The environment variable that may name the models folder.</summary>
    public const string EnvironmentVariable = "DIFFNFT_RESNET18_DIR";

    private const string NetworkRelative = "ResNet18Onnx/ResNet18.onnx";
    private const string PreprocessRelative = "ResNetPrepOnnx/ResNetPreprocess.onnx";

    private ResNet18ModelFiles(string directory)
    {
        Directory = directory;
        NetworkPath = Path.Combine(directory, NetworkRelative);
        PreprocessPath = Path.Combine(directory, PreprocessRelative);
    }

    /// <summary>The models folder (the package's <c>DnnImageModels</c>).</summary>
    public string Directory { get; }

    /// <summary>Full path of <c>ResNet18.onnx</c>.</summary>
    public string NetworkPath { get; }

    /// <summary>Full path of <c>ResNetPreprocess.onnx</c>.</summary>
    public string PreprocessPath { get; }

    /// <summary>Finds the model files, or throws <see cref="FileNotFoundException"/> listing every place searched.</summary>
    /// <param name="directory">A folder to try first; null to search only the default places.</param>
    public static ResNet18ModelFiles Find(string? directory = null)
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates(directory))
        {
            string full = Path.GetFullPath(candidate);
            if (tried.Contains(full)) continue;
            tried.Add(full);
            var files = new ResNet18ModelFiles(full);
            if (File.Exists(files.NetworkPath) && File.Exists(files.PreprocessPath)) return files;
        }
        throw new FileNotFoundException(
            $"The ResNet-18 ONNX files ({NetworkRelative} and {PreprocessRelative}) of the NuGet package {PackageId} " +
            $"{PackageVersion} were not found. Looked in: {string.Join("; ", tried)}. Reference the package from the " +
            $"application (it copies them to DnnImageModels/ in the build output), restore it into the NuGet cache, or set " +
            $"{EnvironmentVariable} to the folder that holds ResNet18Onnx/ and ResNetPrepOnnx/.");
    }

    /// <summary>Like <see cref="Find"/>, but returns null instead of throwing.</summary>
    public static ResNet18ModelFiles? TryFind(string? directory = null)
    {
        try
        {
            return Find(directory);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Candidates(string? directory)
    {
        if (!string.IsNullOrWhiteSpace(directory)) yield return directory;
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env) yield return env;
        yield return Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        string? assemblyDir = Path.GetDirectoryName(typeof(ResNet18ModelFiles).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDir)) yield return Path.Combine(assemblyDir, "DnnImageModels");
        string? cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(cache))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (!string.IsNullOrEmpty(home)) cache = Path.Combine(home, ".nuget", "packages");
        }
        if (!string.IsNullOrEmpty(cache))
            yield return Path.Combine(cache, PackageId.ToLowerInvariant(), PackageVersion, "tools", "DnnImageModels");
    }
}
