using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>The protobuf wire types (the low 3 bits of a field key).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A minimal reader of the protobuf wire format over a byte buffer: field keys, varints, fixed-width numbers and
/// length-delimited fields (sub-messages, strings, bytes, packed arrays). Enough to read ONNX models without a generated
/// protobuf library. Every error is an <see cref="InvalidDataException"/> naming the source and the byte offset.
/// </summary>
internal struct ProtobufReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private readonly int _baseOffset;
    private readonly string _source;
    private int _position;

    /// <summary>Reads <paramref name="buffer"/>; <paramref name="source"/> and <paramref name="baseOffset"/> only appear in error messages.</summary>
    public ProtobufReader(ReadOnlyMemory<byte> buffer, string source, int baseOffset = 0)
    {
        _buffer = buffer;
        _source = source;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>True when every byte has been read.</summary>
    public readonly bool AtEnd => _position >= _buffer.Length;

    /// <summary>The absolute offset of the next byte (for error messages and nested readers).</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads a field key; returns false at the end of the buffer.</summary>
    public bool TryReadKey(out int field, out WireType wireType)
    {
        if (AtEnd)
        {
            field = 0;
            wireType = 0;
            return false;
        }
        int at = Offset;
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (WireType)(key & 7);
        if (field <= 0 || key >> 3 > int.MaxValue)
            throw Error(at, $"invalid field number {key >> 3}");
        if (wireType is WireType.StartGroup or WireType.EndGroup || (int)wireType > 5)
            throw Error(at, $"field {field} uses wire type {(int)wireType}, which this reader does not support (groups are deprecated)");
        return true;
    }

    /// <summary>Reads a base-128 varint (at most 10 bytes).</summary>
    public ulong ReadVarint()
    {
        var span = _buffer.Span;
        int at = Offset;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= span.Length) throw Error(at, "the buffer ends inside a varint");
            byte b = span[_position++];
            if (shift == 63 && b > 1) throw Error(at, "a varint overflows 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error(at, "a varint is longer than 10 bytes");
    }

    /// <summary>Reads a varint as a signed 64-bit integer (two's complement, as int64 fields are encoded).</summary>
    public long ReadInt64() => (long)ReadVarint();

    /// <summary>Reads a varint that must fit in a 32-bit signed integer (enums, int32 fields).</summary>
    public int ReadInt32()
    {
        int at = Offset;
        long v = ReadInt64();
        // Negative int32 values are sign-extended to 10 bytes on the wire.
        if (v < int.MinValue || v > int.MaxValue) throw Error(at, $"value {v} does not fit in 32 bits");
        return (int)v;
    }

    /// <summary>Reads a little-endian 32-bit float.</summary>
    public float ReadFloat() => BitConverter.Int32BitsToSingle((int)ReadFixed32());

    /// <summary>Reads a little-endian 64-bit double.</summary>
    public double ReadDouble() => BitConverter.Int64BitsToDouble((long)ReadFixed64());

    /// <summary>Reads 4 little-endian bytes.</summary>
    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "a fixed32 value").Span);

    /// <summary>Reads 8 little-endian bytes.</summary>
    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "a fixed64 value").Span);

    /// <summary>Reads a length-delimited field's bytes (without copying).</summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        int at = Offset;
        ulong length = ReadVarint();
        if (length > (ulong)(_buffer.Length - _position))
            throw Error(at, $"a length-delimited field claims {length} bytes but only {_buffer.Length - _position} remain");
        return Take((int)length, "a length-delimited field");
    }

    /// <summary>Reads a length-delimited field as UTF-8 text.</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadBytes().Span);

    /// <summary>Reads a length-delimited field as a nested message.</summary>
    public ProtobufReader ReadMessage()
    {
        int lengthAt = Offset;
        var bytes = ReadBytes();
        // The nested reader's offsets stay absolute: its first byte follows the length prefix.
        return new ProtobufReader(bytes, _source, lengthAt + VarintSize((ulong)bytes.Length));
    }

    /// <summary>Skips a field's value of the given wire type.</summary>
    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Take(8, "a fixed64 value"); break;
            case WireType.Fixed32: Take(4, "a fixed32 value"); break;
            case WireType.LengthDelimited: ReadBytes(); break;
            default: throw Error(Offset, $"cannot skip wire type {(int)wireType}");
        }
    }

    /// <summary>
    /// Reads a repeated int64 field into <paramref name="values"/>: one varint, or a packed run when the wire type is
    /// length-delimited (writers may use either).
    /// </summary>
    public void ReadRepeatedInt64(WireType wireType, List<long> values)
    {
        if (wireType == WireType.Varint)
        {
            values.Add(ReadInt64());
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "a repeated integer");
        var packed = ReadMessage();
        while (!packed.AtEnd) values.Add(packed.ReadInt64());
    }

    /// <summary>Reads a repeated float field (one fixed32 or a packed run).</summary>
    public void ReadRepeatedFloat(WireType wireType, List<float> values)
    {
        if (wireType == WireType.Fixed32)
        {
            values.Add(ReadFloat());
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "a repeated float");
        var packed = ReadMessage();
        if (packed._buffer.Length % 4 != 0)
            throw Error(packed.Offset, $"a packed float array has {packed._buffer.Length} bytes, not a multiple of 4");
        while (!packed.AtEnd) values.Add(packed.ReadFloat());
    }

    /// <summary>Reads a repeated double field (one fixed64 or a packed run).</summary>
    public void ReadRepeatedDouble(WireType wireType, List<double> values)
    {
        if (wireType == WireType.Fixed64)
        {
            values.Add(ReadDouble());
            return;
        }
        Expect(wireType, WireType.LengthDelimited, "a repeated double");
        var packed = ReadMessage();
        if (packed._buffer.Length % 8 != 0)
            throw Error(packed.Offset, $"a packed double array has {packed._buffer.Length} bytes, not a multiple of 8");
        while (!packed.AtEnd) values.Add(packed.ReadDouble());
    }

    /// <summary>Throws unless a field has the wire type its schema requires.</summary>
    public readonly void Expect(WireType actual, WireType expected, string what)
    {
        if (actual != expected)
            throw Error(Offset, $"{what} has wire type {(int)actual}, expected {(int)expected}");
    }

    /// <summary>An <see cref="InvalidDataException"/> naming the source and offset.</summary>
    public readonly InvalidDataException Error(int offset, string message) =>
        new($"'{_source}' is not a valid protobuf message: at byte {offset}, {message}.");

    private ReadOnlyMemory<byte> Take(int count, string what)
    {
        if (_buffer.Length - _position < count)
            throw Error(Offset, $"the buffer ends inside {what} ({count} bytes needed, {_buffer.Length - _position} left)");
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }
}
