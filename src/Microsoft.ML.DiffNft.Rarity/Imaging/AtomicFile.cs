namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Writes files so that a crash never leaves a half-written file under the final name.</summary>
internal static class AtomicFile
{
    /// <summary>Writes bytes to a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = PrepareTemp(path);
        using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            fs.Write(bytes);
        File.Move(tmp, path, overwrite: true);
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
        string tmp = PrepareTemp(path);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                write(fs);
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    private static string PrepareTemp(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        return full + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
    }
}
