using DiffNft.Cli;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>What the output-folder tests share: running the CLI, the one-line-error check, and the file-system facts they depend on.</summary>
internal static class OutputTestSupport
{
    private static readonly Lazy<bool> s_permissionsEnforced = new(() =>
    {
        if (OperatingSystem.IsWindows()) return false;
        var dir = Directory.CreateTempSubdirectory("diffnft-perm-");
        try
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            File.WriteAllText(Path.Combine(dir.FullName, "x"), "x");
            return false; // root (or CAP_DAC_OVERRIDE) writes into a read-only folder anyway
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        finally
        {
            File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            dir.Delete(recursive: true);
        }
    });

    /// <summary>
    /// True when a folder without write permission really cannot be written by this process. Not as root: root ignores
    /// permissions, so a chmod 555 test proves nothing there (the fault seam, <c>IoFaults</c>, stands in).
    /// </summary>
    public static bool PermissionsEnforced => s_permissionsEnforced.Value;

    /// <summary>Runs the CLI in-process and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Asserts that <paramref name="error"/> reports one error, on one "diffnft: error:" line naming
    /// <paramref name="path"/>, with no stack trace (progress lines before it are fine).
    /// </summary>
    public static void AssertOneLineNaming(string error, string path)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("diffnft: error: ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, $"expected one error line, got {errors.Count}:\n{error}");
        Assert.Equal(errors[0], lines[^1]);
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
        Assert.Contains(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)), errors[0]);
    }

    /// <summary>Asserts that no temporary file of an atomic write, and no probe file, is left under <paramref name="root"/>.</summary>
    public static void AssertNoTemporaryFiles(string root)
    {
        if (!Directory.Exists(root)) return;
        var left = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".tmp", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith(".diffnft-probe-", StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, "temporary files left: " + string.Join(", ", left));
    }

    /// <summary>The bundled base diffusion model.</summary>
    public static string BaseModel => Path.Combine(RepositoryPaths.Root, "models", "builtin", "base.diffnft");

    /// <summary>The bundled rarity reward model.</summary>
    public static string RewardModel => Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward");

    /// <summary>Makes <paramref name="dir"/> read-only (r-x) until the result is disposed.</summary>
    public static IDisposable ReadOnly(string dir)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Unix permissions only.");
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        return new RestoreMode(dir);
    }

    private sealed class RestoreMode(string dir) : IDisposable
    {
        public void Dispose()
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
