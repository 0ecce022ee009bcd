using System.Reflection;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// Draws plots with ScottPlot from the plotting folder (<c>plotting/</c> beside the application or this library), loaded
/// once into its own <see cref="PlottingLoadContext"/>. When the folder is missing or does not load, <see cref="IsAvailable"/>
/// is false and <see cref="UnavailableReason"/> says why; the report then falls back to <see cref="SvgChart"/>.
/// </summary>
internal sealed class ScottPlotRenderer
{
    /// <summary>The folder, beside the application, that the build fills with the plotting assembly and its dependencies.</summary>
    public const string FolderName = "plotting";

    /// <summary>The assembly in that folder with the entry point.</summary>
    public const string AssemblyName = "Microsoft.ML.DiffNft.Plotting";

    private const string EntryType = "Microsoft.ML.DiffNft.Plotting.ReportPlotRenderer";

    // A tiny plot drawn once when loading, so that "available" means the native library loaded and drew.
    private const string SmokeSpec = """{"width":120,"height":90,"title":"t","markers":[{"x":0,"y":0,"color":"#000000"},{"x":1,"y":1,"color":"#000000"}]}""";

    private static readonly Lazy<ScottPlotRenderer> s_default = new(() => new ScottPlotRenderer(FindFolder(out var searched), searched));

    private readonly Lazy<Loaded> _loaded;

    /// <summary>A renderer for the plotting folder at <paramref name="folder"/> (null: none was found).</summary>
    /// <param name="folder">The plotting folder, or null.</param>
    /// <param name="searched">The folders that were searched (for the message when none was found).</param>
    internal ScottPlotRenderer(string? folder, IReadOnlyList<string> searched)
    {
        Folder = folder;
        _loaded = new Lazy<Loaded>(() => Load(folder, searched), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The renderer of this process: the plotting folder found beside the application or this library.</summary>
    public static ScottPlotRenderer Default => s_default.Value;

    /// <summary>The plotting folder, or null when none was found.</summary>
    public string? Folder { get; }

    /// <summary>Whether ScottPlot loaded and drew a test plot (loads on first use).</summary>
    public bool IsAvailable => _loaded.Value.Error is null;

    /// <summary>What draws the plots, e.g. "ScottPlot 5.1.59 (SkiaSharp 3.119.0)"; null when unavailable.</summary>
    public string? Description => _loaded.Value.Description;

    /// <summary>Why ScottPlot cannot draw; null when it can.</summary>
    public string? UnavailableReason => _loaded.Value.Error;

    /// <summary>The load context holding ScottPlot and SkiaSharp 3 (null when the folder was not found).</summary>
    internal PlottingLoadContext? LoadContext => _loaded.Value.Context;

    /// <summary>Draws the plot described by <paramref name="specJson"/> as an &lt;svg&gt; element.</summary>
    /// <exception cref="InvalidOperationException">ScottPlot is not available (see <see cref="UnavailableReason"/>).</exception>
    public string RenderSvg(string specJson) => Require().RenderSvg!(specJson);

    /// <summary>Draws the plot as PNG bytes.</summary>
    /// <exception cref="InvalidOperationException">ScottPlot is not available (see <see cref="UnavailableReason"/>).</exception>
    public byte[] RenderPng(string specJson) => Require().RenderPng!(specJson);

    private Loaded Require()
    {
        var loaded = _loaded.Value;
        if (loaded.Error is not null) throw new InvalidOperationException("ScottPlot is not available: " + loaded.Error);
        return loaded;
    }

    /// <summary>plotting/ beside the application (AppContext.BaseDirectory), else beside this library's assembly.</summary>
    internal static string? FindFolder(out IReadOnlyList<string> searched)
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, FolderName) };
        string location = typeof(ScottPlotRenderer).Assembly.Location; // empty in a single-file bundle
        if (location.Length > 0 && Path.GetDirectoryName(location) is { } dir) candidates.Add(Path.Combine(dir, FolderName));
        searched = candidates.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        return searched.FirstOrDefault(d => File.Exists(Path.Combine(d, AssemblyName + ".dll")));
    }

    private static Loaded Load(string? folder, IReadOnlyList<string> searched)
    {
        if (folder is null)
            return new Loaded(null, null, null, null,
                $"the plotting folder was not found (looked for {FolderName}/{AssemblyName}.dll in {string.Join(", ", searched)}); the build copies it beside applications that use Microsoft.ML.DiffNft");
        var context = new PlottingLoadContext(folder);
        try
        {
            var assembly = context.LoadFromAssemblyPath(Path.Combine(folder, AssemblyName + ".dll"));
            var type = assembly.GetType(EntryType, throwOnError: true)!;
            var svg = type.GetMethod("RenderSvg", BindingFlags.Public | BindingFlags.Static, [typeof(string)])?.CreateDelegate<Func<string, string>>()
                ?? throw new MissingMethodException(EntryType, "RenderSvg(string)");
            var png = type.GetMethod("RenderPng", BindingFlags.Public | BindingFlags.Static, [typeof(string)])?.CreateDelegate<Func<string, byte[]>>()
                ?? throw new MissingMethodException(EntryType, "RenderPng(string)");
            string description = type.GetProperty("Description", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string
                ?? throw new MissingMemberException(EntryType, "Description");
            string smoke = svg(SmokeSpec);
            if (!smoke.Contains("<svg", StringComparison.Ordinal)) throw new InvalidDataException("the test plot did not come back as SVG");
            return new Loaded(context, svg, png, description, null);
        }
        catch (Exception ex)
        {
            // The cause, not its wrappers (TargetInvocationException, TypeInitializationException around a missing native library).
            var cause = ex.GetBaseException();
            return new Loaded(context, null, null, null, $"ScottPlot in {folder} did not load: {cause.GetType().Name}: {cause.Message}");
        }
    }

    private sealed record Loaded(PlottingLoadContext? Context, Func<string, string>? RenderSvg, Func<string, byte[]>? RenderPng, string? Description, string? Error);
}
