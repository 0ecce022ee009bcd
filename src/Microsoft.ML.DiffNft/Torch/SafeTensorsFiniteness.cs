using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// Checks that every floating-point tensor of a safetensors file holds only finite values, on the raw bytes and before
/// any tensor is made: a NaN or infinite weight does not fail anywhere later — it turns every generated image black or
/// every reward into NaN — so it has to be refused where the file is read.
/// </summary>
internal static class SafeTensorsFiniteness
{
    /// <summary>Throws an <see cref="InvalidDataException"/> naming <paramref name="sourceName"/>, the tensor and the element when a value is NaN or infinite.</summary>
    /// <param name="file">The safetensors file, already validated by <see cref="SafeTensorsHeader.Validate"/>.</param>
    /// <param name="entries">Its tensors, as <see cref="SafeTensorsHeader.Validate"/> returned them.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static void Check(ReadOnlySpan<byte> file, IReadOnlyList<SafeTensorsEntry> entries, string sourceName)
    {
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        foreach (var e in entries)
        {
            var data = file.Slice(checked((int)(dataStart + e.Begin)), checked((int)(e.End - e.Begin)));
            long bad = FirstNonFinite(data, e.DType);
            if (bad >= 0)
                throw new InvalidDataException(
                    $"'{sourceName}': tensor '{e.Name}' holds non-finite weights (NaN or infinity), the first at element {bad:N0}; " +
                    "a model trained into NaN cannot generate or score anything.");
        }
    }

    /// <summary>
    /// The index of the first NaN or infinite element of raw little-endian data of the safetensors dtype
    /// <paramref name="dtype"/>, or -1 when every element is finite (integer and boolean data always are).
    /// </summary>
    /// <param name="data">Whole elements of one tensor, or of a piece of one.</param>
    /// <param name="dtype">The safetensors dtype code of the data (F16, BF16, F32, F64, …).</param>
    public static long FirstNonFinite(ReadOnlySpan<byte> data, string dtype) =>
        // A value is NaN or infinite exactly when all the bits of its exponent are set.
        dtype switch
        {
            "F16" => FirstWithExponent16(data, 0x7C00),
            "BF16" => FirstWithExponent16(data, 0x7F80),
            "F32" => FirstWithExponent32(data),
            "F64" => FirstWithExponent64(data),
            _ => -1,   // integers and booleans are always finite
        };

    private static long FirstWithExponent16(ReadOnlySpan<byte> data, ushort exponent)
    {
        // Whole vectors first (a weight file holds hundreds of millions of values), then the element, scalar.
        var words = MemoryMarshal.Cast<byte, ushort>(data[..(data.Length & ~1)]);
        var mask = new Vector<ushort>(exponent);
        int start = 0;
        // (the vector test reads native-endian words; the data is little-endian)
        for (; BitConverter.IsLittleEndian && start + Vector<ushort>.Count <= words.Length; start += Vector<ushort>.Count)
            if (Vector.EqualsAny(new Vector<ushort>(words[start..]) & mask, mask)) break;
        for (int i = start * 2; i + 2 <= data.Length; i += 2)
            if ((BinaryPrimitives.ReadUInt16LittleEndian(data[i..]) & exponent) == exponent) return i / 2;
        return -1;
    }

    private static long FirstWithExponent32(ReadOnlySpan<byte> data)
    {
        const uint exponent = 0x7F80_0000;
        var words = MemoryMarshal.Cast<byte, uint>(data[..(data.Length & ~3)]);
        var mask = new Vector<uint>(exponent);
        int start = 0;
        // (the vector test reads native-endian words; the data is little-endian)
        for (; BitConverter.IsLittleEndian && start + Vector<uint>.Count <= words.Length; start += Vector<uint>.Count)
            if (Vector.EqualsAny(new Vector<uint>(words[start..]) & mask, mask)) break;
        for (int i = start * 4; i + 4 <= data.Length; i += 4)
            if ((BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) & exponent) == exponent) return i / 4;
        return -1;
    }

    private static long FirstWithExponent64(ReadOnlySpan<byte> data)
    {
        const ulong exponent = 0x7FF0_0000_0000_0000;
        for (int i = 0; i + 8 <= data.Length; i += 8)
            if ((BinaryPrimitives.ReadUInt64LittleEndian(data[i..]) & exponent) == exponent) return i / 8;
        return -1;
    }
}
