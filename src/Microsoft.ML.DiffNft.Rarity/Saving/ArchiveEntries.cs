using System.IO.Compression;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The zip container of the package's files (model archives and saved pipelines): named entries, written in a fixed order
/// with a fixed timestamp so that equal content gives equal bytes; a model file also carries the SHA-256 of every entry
/// (<see cref="EntryHashList"/>). Reading is defensive: entry names must be plain relative names (nothing can escape a
/// target folder), duplicates are rejected, every entry is inflated under a size cap and checked against its CRC-32
/// (<see cref="ZipEntryReader"/>), the hash list, when there is one, is checked before the entries are returned, and
/// everything is read into memory — no entry is ever extracted to disk by name.
/// </summary>
internal static class ArchiveEntries
{
    /// <summary>
    /// Largest entry accepted when reading: 1 GiB, far above the package's models (a few MB) and below what a .NET array
    /// holds. The declared size is checked before anything is allocated or inflated, and no more than the declared size is
    /// ever kept while inflating, so a zip bomb costs no more memory than this.
    /// </summary>
    public const long MaxEntryBytes = 1L << 30;

    /// <summary>
    /// Entries above <see cref="RatioFloorBytes"/> may expand at most this many times their compressed size. Weights
    /// compress by a few per cent, zero-initialised adapters by ~1000× but are small; a bomb expands by ~1000×.
    /// </summary>
    public const long MaxCompressionRatio = 100;

    /// <summary>Entries up to this size (64 MiB) are read whatever their compression ratio.</summary>
    public const long RatioFloorBytes = 64L << 20;

    /// <summary>Writes <paramref name="entries"/> as a zip to <paramref name="stream"/>, which stays open.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="entries">The entries, by name.</param>
    /// <param name="source">The file being written, for error messages.</param>
    /// <param name="hashList">
    /// Whether to add <see cref="EntryHashList"/>, the SHA-256 of every entry: true for model files (and the model
    /// archives inside saved pipelines); false for a saved pipeline, whose own manifest already hashes every entry.
    /// </param>
    public static void Write(Stream stream, IReadOnlyDictionary<string, byte[]> entries, string source, bool hashList)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var name in entries.Keys) CheckEntryName(name, source);
        if (entries.ContainsKey(EntryHashList.EntryName))
            throw new ArgumentException($"'{source}': the entry name '{EntryHashList.EntryName}' is reserved for the hash list.", nameof(entries));
        IEnumerable<KeyValuePair<string, byte[]>> all = entries;
        if (hashList) all = all.Append(new(EntryHashList.EntryName, EntryHashList.Create(entries)));
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, bytes) in all.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
            // A fixed timestamp keeps archives of identical models byte-identical.
            entry.LastWriteTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using var s = entry.Open();
            s.Write(bytes);
        }
    }

    /// <summary>Reads every entry of the zip file at <paramref name="path"/> into memory, validating names and sizes.</summary>
    public static Dictionary<string, byte[]> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        return Read(() => File.OpenRead(path), path);
    }

    /// <summary>Reads every entry of a zip held in memory (for example a part of a saved pipeline).</summary>
    /// <param name="bytes">The zip.</param>
    /// <param name="source">The name of the zip in error messages (file and entry).</param>
    public static Dictionary<string, byte[]> Read(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Read(() => new MemoryStream(bytes, writable: false), source);
    }

    /// <summary>Whether <paramref name="bytes"/> start like a zip archive (the local file header signature).</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K' && bytes[2] == 3 && bytes[3] == 4;

    private static Dictionary<string, byte[]> Read(Func<Stream> open, string source)
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var stream = open();
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
            foreach (var entry in zip.Entries)
            {
                CheckEntryName(entry.FullName, source);
                if (result.ContainsKey(entry.FullName))
                    throw new InvalidDataException($"Model file '{source}': entry '{entry.FullName}' appears twice.");
                result[entry.FullName] = ZipEntryReader.Read(entry, source);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException && ex is not FileNotFoundException)
        {
            if (ex is InvalidDataException ide && ide.Message.StartsWith("Model file", StringComparison.Ordinal)) throw;
            throw new InvalidDataException($"Model file '{source}' is not a readable DiffNft model archive (truncated or corrupted): {ex.Message}", ex);
        }
        // A file without the list was written before the package recorded hashes: read it on the CRC-32 checks alone
        // (docs/saving.md, "Model files").
        if (result.ContainsKey(EntryHashList.EntryName)) EntryHashList.Verify(result, source);
        return result;
    }

    /// <summary>Returns an entry or throws an error naming the file and the missing entry.</summary>
    public static byte[] Require(IReadOnlyDictionary<string, byte[]> entries, string name, string source) =>
        entries.TryGetValue(name, out var bytes) ? bytes
            : throw new InvalidDataException($"Model file '{source}' has no entry '{name}'; it is not a complete DiffNft model.");

    /// <summary>Throws unless <paramref name="name"/> is a plain relative entry name.</summary>
    public static void CheckEntryName(string name, string source)
    {
        bool bad = string.IsNullOrEmpty(name) || name.Length > 200 || name.Contains('\\') || name.Contains(':')
                   || name.StartsWith('/') || name.Split('/').Any(p => p is "" or "." or "..");
        if (bad)
            throw new InvalidDataException($"Model file '{source}' has an entry named '{name}', which is not a plain relative name (it could escape the model folder).");
    }
}
