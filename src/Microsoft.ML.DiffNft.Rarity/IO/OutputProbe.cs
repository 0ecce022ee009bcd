namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// Checks an output location before the expensive work, so that a path that is a file, a read-only folder or a full disk
/// is reported in one line naming the path at once, not as a stack trace after minutes of training or sampling.
/// </summary>
internal static class OutputProbe
{
    /// <summary>The prefix of the probe files (written and removed at once).</summary>
    public const string ProbePrefix = ".diffnft-probe-";

    /// <summary>
    /// Makes sure <paramref name="directory"/> is a folder this process can write a file into: creates it when missing,
    /// then writes one byte to a probe file (flushed to disk, so a full disk shows) and removes it.
    /// </summary>
    /// <returns>The folder's full path.</returns>
    /// <exception cref="IOException">The path or one of its parents is a file, the folder cannot be made, or it cannot be written.</exception>
    public static string WritableFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        // "out/" names the folder "out": without the separator, File.Exists finds a file of that name.
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (File.Exists(full))
            throw new IOException($"Output folder '{full}' is a file; expected a folder (or a path where one can be made).");
        Probe(full, $"Output folder '{full}' cannot be made", $"Output folder '{full}' cannot be written");
        return full;
    }

    /// <summary>
    /// Makes sure <paramref name="path"/> can be written as a file: it is not a folder, and its folder can be made and
    /// written (as <see cref="WritableFolder"/> checks).
    /// </summary>
    /// <returns>The file's full path.</returns>
    /// <exception cref="IOException">The path is a folder, or its folder cannot be made or written.</exception>
    public static string WritableFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"Output file '{full}' is a folder; expected the path of a file to write.");
        string folder = Path.GetDirectoryName(full) ?? throw new IOException($"Output file '{full}' has no folder.");
        if (File.Exists(folder))
            throw new IOException($"Output file '{full}' cannot be written: '{folder}' is a file, not a folder.");
        Probe(folder, $"Output file '{full}' cannot be written: its folder cannot be made", $"Output file '{full}' cannot be written in '{folder}'");
        return full;
    }

    // Creates the folder and writes a probe file in it; the errors start with the caller's words.
    private static void Probe(string full, string cannotMake, string cannotWrite)
    {
        for (string? parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
            if (File.Exists(parent))
                throw new IOException($"{cannotMake}: '{parent}' is a file, not a folder.");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{cannotMake}: {Reason(ex)}", ex);
        }
        string probe = Path.Combine(full, ProbePrefix + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var fs = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1);
            IoFaults.Check(probe);
            fs.WriteByte(0);
            fs.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{cannotWrite}: {Reason(ex)}", ex);
        }
        finally
        {
            try { File.Delete(probe); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // never made
        }
    }

    /// <summary>
    /// Why an I/O call failed, without the path .NET appends (" : '/x/y'"), which is often a temporary or probe file's:
    /// the caller names the path the user gave.
    /// </summary>
    public static string Reason(Exception ex)
    {
        if (ex is UnauthorizedAccessException) return "permission denied (a read-only folder or file system, or one this user may not write).";
        string message = ex.Message.ReplaceLineEndings(" ").Trim();
        int cut = message.LastIndexOf(" : '", StringComparison.Ordinal);
        if (cut > 0 && message.EndsWith('\'')) message = message[..cut];
        return message.EndsWith('.') ? message : message + ".";
    }
}
