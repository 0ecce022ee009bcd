using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>Shared helpers for reading JSON files: BOM handling and the reader settings every format uses.</summary>
internal static class JsonBytes
{
    /// <summary>Comments and trailing commas are tolerated: hand-edited metadata often has them, and they are unambiguous.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>The same settings for <see cref="JsonDocument"/>.</summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Reads a whole file, or throws <see cref="FileNotFoundException"/> naming it.</summary>
    public static byte[] ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Collection file '{path}' does not exist.", path);
        return File.ReadAllBytes(path);
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> from the start of a file (enough to tell its format).</summary>
    public static byte[] ReadPrefix(string path, int maxBytes)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Collection file '{path}' does not exist.", path);
        using var fs = File.OpenRead(path);
        var buffer = new byte[(int)Math.Min(maxBytes, fs.Length)];
        fs.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>The bytes after a UTF-8 byte-order mark, if any.</summary>
    public static ReadOnlyMemory<byte> WithoutBom(byte[] bytes) =>
        bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? bytes.AsMemory(3) : bytes;

    /// <summary>The first byte that is not JSON whitespace, or -1.</summary>
    public static int FirstSignificantByte(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return b;
        return -1;
    }
}
