using Microsoft.ML.DiffNft.IO;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// Writes files so that a crash never leaves a half-written file under the final name, and a failure (a full disk, a
/// read-only folder) never leaves the temporary file behind. I/O errors name the file that was being written, not the
/// temporary one.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes bytes to a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = TempName(path);
        try
        {
            CreateFolder(path);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                IoFaults.Check(tmp);
                fs.Write(bytes);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception ex)
        {
            if (Failed(path, tmp, ex) is { } named) throw named;
            throw;
        }
    }

    /// <summary>Writes text (UTF-8, no BOM) atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));
    }

    /// <summary>Runs <paramref name="write"/> against a temporary file stream, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string tmp = TempName(path);
        try
        {
            CreateFolder(path);
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                IoFaults.Check(tmp);
                write(fs);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception ex)
        {
            if (Failed(path, tmp, ex) is { } named) throw named;
            throw;
        }
    }

    private static string TempName(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Path.GetFullPath(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
    }

    private static void CreateFolder(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
    }

    /// <summary>
    /// Removes the temporary file and returns the exception to throw instead of <paramref name="ex"/>: plain I/O and
    /// permission errors get a message that names <paramref name="path"/> (theirs names the temporary file, or nothing);
    /// anything else is rethrown as it is (null).
    /// </summary>
    private static Exception? Failed(string path, string tmp, Exception ex)
    {
        try { File.Delete(tmp); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // never created, or the folder forbids it
        string full = Path.GetFullPath(path);
        return ex switch
        {
            UnauthorizedAccessException => new UnauthorizedAccessException($"Cannot write '{full}': permission denied (a read-only folder or file system, or one this user may not write).", ex),
            IOException when ex.GetType() == typeof(IOException) => new IOException($"Cannot write '{full}': {OutputProbe.Reason(ex)}", ex),
            _ => null,
        };
    }
}
