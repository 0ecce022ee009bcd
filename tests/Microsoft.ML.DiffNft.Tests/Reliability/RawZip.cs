using System.IO.Compression;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// Reads and writes zip files with .NET's <see cref="ZipArchive"/> alone, bypassing the package's checks and its hash
/// list: how a file is edited by hand, re-zipped by another tool, or was written before the package recorded hashes.
/// </summary>
internal static class RawZip
{
    /// <summary>Every entry, as stored (the hash list included), in the archive's order.</summary>
    public static List<(string Name, byte[] Bytes)> Entries(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.Select(e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return (e.FullName, ms.ToArray());
        }).ToList();
    }

    /// <summary>Writes <paramref name="entries"/> as they are, with valid CRC-32s, at <paramref name="level"/>.</summary>
    public static void Write(string path, IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var s = zip.CreateEntry(name, level).Open();
            s.Write(bytes);
        }
    }

    /// <summary>Rewrites the file at <paramref name="path"/> with <paramref name="edit"/> applied to its entries.</summary>
    public static void Edit(string path, Func<List<(string Name, byte[] Bytes)>, IEnumerable<(string Name, byte[] Bytes)>> edit,
        CompressionLevel level = CompressionLevel.Fastest)
    {
        var entries = edit(Entries(path)).ToList();
        File.Delete(path);
        Write(path, entries, level);
    }
}
