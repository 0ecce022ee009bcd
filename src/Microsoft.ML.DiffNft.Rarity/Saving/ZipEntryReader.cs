using System.IO.Compression;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// Reads one zip entry into memory, trusting nothing the archive declares: the declared size is capped before anything
/// is inflated, the inflated bytes are counted as they arrive (never more than declared are kept, and memory grows only
/// with what really inflates), and the CRC-32 of the bytes must equal the archive's. Every failure is an
/// <see cref="InvalidDataException"/> naming the file and the entry.
/// </summary>
internal static class ZipEntryReader
{
    /// <summary>
    /// The most memory reserved before any byte inflates. Up to this size an entry is read into one array of its declared
    /// size; above it the array grows with the bytes that actually arrive, so a lying declared size costs nothing.
    /// </summary>
    private const int FirstBufferBytes = 4 << 20;

    /// <summary>The entry's bytes, checked against its declared size, the caps of <see cref="ArchiveEntries"/> and its CRC-32.</summary>
    /// <param name="entry">The entry.</param>
    /// <param name="source">The zip's name in error messages.</param>
    public static byte[] Read(ZipArchiveEntry entry, string source)
    {
        long declared = entry.Length;
        if (declared > ArchiveEntries.MaxEntryBytes || declared < 0)
            throw Bad(source, entry, $"declares {declared:N0} bytes, over the {ArchiveEntries.MaxEntryBytes:N0}-byte limit");
        if (declared > ArchiveEntries.RatioFloorBytes && declared > entry.CompressedLength * ArchiveEntries.MaxCompressionRatio)
            throw Bad(source, entry,
                $"declares {declared:N0} bytes from {entry.CompressedLength:N0} compressed, more than {ArchiveEntries.MaxCompressionRatio}× " +
                "(a zip bomb, or not a DiffNft file)");

        var buffer = new byte[Math.Min(declared, FirstBufferBytes)];
        long filled = 0;
        var crc = new Crc32();
        try
        {
            using var stream = entry.Open();
            while (true)
            {
                if (filled == buffer.Length)
                {
                    if (filled == declared)
                    {
                        // Everything declared has arrived; one more byte would be more than the archive admits to.
                        if (stream.ReadByte() != -1) throw Bad(source, entry, $"inflates to more than the {declared:N0} bytes it declares");
                        break;
                    }
                    Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
                }
                int n = stream.Read(buffer, (int)filled, buffer.Length - (int)filled);
                if (n == 0) break;
                crc.Append(buffer.AsSpan((int)filled, n));
                filled += n;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !IsOurs(ex))
        {
            // The inflater's own complaint ("block length does not match", "unsupported compression method") names neither.
            throw Bad(source, entry, $"cannot be inflated ({ex.Message.ReplaceLineEndings(" ")}): the file is damaged", ex);
        }
        if (filled != declared)
            throw Bad(source, entry, $"inflates to {filled:N0} bytes but declares {declared:N0} (truncated or corrupted)");
        if (crc.Value != entry.Crc32)
            throw Bad(source, entry, $"fails its CRC-32 check (the archive records {entry.Crc32:x8}, the data gives {crc.Value:x8}): the file is damaged");
        return buffer;
    }

    private static bool IsOurs(Exception ex) => ex.Message.StartsWith("Model file '", StringComparison.Ordinal);

    private static InvalidDataException Bad(string source, ZipArchiveEntry entry, string problem, Exception? inner = null) =>
        new($"Model file '{source}': entry '{entry.FullName}' {problem}.", inner);
}
