using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// A minimal writer of the protobuf wire format: field keys, varints, fixed-width numbers and length-delimited fields
/// (strings, bytes, packed arrays, nested messages). The counterpart of <see cref="ProtobufReader"/>: enough to write
/// ONNX models without a generated protobuf library.
/// </summary>
/// <remarks>
/// A nested message is written into a writer of its own and then copied behind its length prefix: protobuf needs the
/// length first, and copying costs one pass per nesting level (an ONNX model nests four or five deep), which is cheap
/// next to computing the sizes of every sub-message in advance.
/// </remarks>
internal sealed class ProtobufWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new();

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    /// <summary>Writes a field key: the field number and wire type.</summary>
    public void WriteKey(int field, WireType wireType)
    {
        if (field <= 0) throw new ArgumentOutOfRangeException(nameof(field), field, "Protobuf field numbers are positive.");
        WriteVarint(((ulong)field << 3) | (ulong)wireType);
    }

    /// <summary>Writes a base-128 varint.</summary>
    public void WriteVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _buffer.Advance(n);
    }

    /// <summary>Writes an int64 (or int32, or enum) field; negative values take ten bytes, as protobuf requires.</summary>
    public void WriteInt64(int field, long value)
    {
        WriteKey(field, WireType.Varint);
        WriteVarint((ulong)value);
    }

    /// <summary>Writes a 32-bit float field (little-endian).</summary>
    public void WriteFloat(int field, float value)
    {
        WriteKey(field, WireType.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    /// <summary>Writes a bytes field.</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> bytes)
    {
        WriteKey(field, WireType.LengthDelimited);
        WriteVarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    /// <summary>Writes a UTF-8 string field.</summary>
    public void WriteString(int field, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteBytes(field, Encoding.UTF8.GetBytes(value));
    }

    /// <summary>Writes a repeated int64 field as one packed run (read back by <see cref="ProtobufReader.ReadRepeatedInt64"/>).</summary>
    public void WritePackedInt64(int field, IReadOnlyList<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return; // an empty repeated field is simply absent
        var packed = new ProtobufWriter();
        foreach (long v in values) packed.WriteVarint((ulong)v);
        WriteBytes(field, packed.WrittenSpan);
    }

    /// <summary>Writes a repeated float field as one packed run of little-endian floats.</summary>
    public void WritePackedFloat(int field, IReadOnlyList<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return;
        var bytes = new byte[checked(values.Count * 4)];
        for (int i = 0; i < values.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        WriteBytes(field, bytes);
    }

    /// <summary>Writes a nested message field whose contents <paramref name="write"/> produces.</summary>
    public void WriteMessage(int field, Action<ProtobufWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var nested = new ProtobufWriter();
        write(nested);
        WriteBytes(field, nested.WrittenSpan);
    }
}
