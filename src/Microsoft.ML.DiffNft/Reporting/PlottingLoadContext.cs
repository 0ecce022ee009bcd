using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// The assembly load context of the plotting folder: ScottPlot, SkiaSharp 3 and HarfBuzzSharp, with their native
/// libraries, resolved from that folder only. The default context keeps SkiaSharp 2.88 for ML.NET's <c>MLImage</c>.
/// </summary>
/// <remarks>
/// Both SkiaSharp versions name their managed assembly "SkiaSharp" and their native library "libSkiaSharp"; a context
/// resolves its own assemblies first, and the runtime asks <see cref="LoadUnmanagedDll"/> before probing the application
/// folder (where 2.88's native library sits), so each SkiaSharp binds to its own native library, loaded by full path.
/// Framework assemblies (System.*) come from the default context, so only BCL types cross between the two.
/// </remarks>
internal sealed class PlottingLoadContext : AssemblyLoadContext
{
    private readonly string _folder;
    private readonly IReadOnlyList<string> _nativeFolders;

    public PlottingLoadContext(string folder)
        : base("DiffNft.Plotting", isCollectible: false)
    {
        _folder = folder;
        _nativeFolders = NativeFolders(folder);
    }

    /// <summary>The runtimes/&lt;rid&gt;/native folders searched for native libraries, best match first.</summary>
    public IReadOnlyList<string> NativeFolderCandidates => _nativeFolders;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is not { Length: > 0 } name) return null;
        string path = Path.Combine(_folder, name + ".dll");
        // Anything not in the folder (the framework) is shared with the default context.
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string name = Path.GetFileName(unmanagedDllName);
        foreach (string ext in new[] { ".so", ".dylib", ".dll" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) name = name[..^ext.Length];
        string file = name + (OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so");
        foreach (string dir in _nativeFolders)
        {
            string path = Path.Combine(dir, file);
            if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
        }
        // Falling through to the default probing would find SkiaSharp 2.88's libSkiaSharp beside the application, which
        // SkiaSharp 3 refuses (or worse); say what is missing instead.
        if (name.Contains("SkiaSharp", StringComparison.OrdinalIgnoreCase) || name.Contains("HarfBuzz", StringComparison.OrdinalIgnoreCase))
            throw new DllNotFoundException(
                $"The plotting folder has no {file} for this platform ({RuntimeInformation.RuntimeIdentifier}); looked in {string.Join(", ", _nativeFolders)}.");
        return IntPtr.Zero;
    }

    /// <summary>runtimes/&lt;rid&gt;/native folders for this process: the runtime's own RID, then the portable ones.</summary>
    internal static IReadOnlyList<string> NativeFolders(string folder)
    {
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var rids = new List<string> { RuntimeInformation.RuntimeIdentifier };
        if (OperatingSystem.IsWindows()) rids.Add($"win-{arch}");
        else if (OperatingSystem.IsMacOS()) rids.AddRange([$"osx-{arch}", "osx"]);
        else if (OperatingSystem.IsLinux())
        {
            if (IsMusl()) rids.Add($"linux-musl-{arch}");
            rids.Add($"linux-{arch}");
        }
        return rids.Distinct(StringComparer.Ordinal).Select(r => Path.Combine(folder, "runtimes", r, "native")).ToList();
    }

    // Alpine and other musl systems have their loader at /lib/ld-musl-<arch>.so.1.
    private static bool IsMusl() =>
        Directory.Exists("/lib") && Directory.EnumerateFiles("/lib", "ld-musl-*").Any();
}
