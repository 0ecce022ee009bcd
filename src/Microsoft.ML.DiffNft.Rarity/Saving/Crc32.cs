namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The CRC-32 of the zip format (IEEE 802.3, reflected polynomial 0xEDB88320), computed incrementally.
/// </summary>
/// <remarks>
/// .NET 10's <c>ZipArchive</c> reads each entry's CRC-32 but never compares it with the data it inflates (a flipped
/// byte in an entry stored without compression, or one that still inflates, reads as other data without an error), so
/// <see cref="ZipEntryReader"/> checks it with this. The framework's own CRC-32 is internal, and System.IO.Hashing would
/// be a new dependency for twenty lines.
/// </remarks>
internal sealed class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    private uint _state = 0xFFFFFFFF;

    /// <summary>The CRC of the bytes appended so far.</summary>
    public uint Value => ~_state;

    /// <summary>Adds <paramref name="bytes"/> to the checksum.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        uint crc = _state;
        var table = s_table;
        foreach (byte b in bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        _state = crc;
    }

    /// <summary>The CRC-32 of <paramref name="bytes"/>.</summary>
    public static uint Of(ReadOnlySpan<byte> bytes)
    {
        var crc = new Crc32();
        crc.Append(bytes);
        return crc.Value;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
