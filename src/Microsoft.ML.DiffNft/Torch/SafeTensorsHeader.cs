using System.Buffers.Binary;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>One tensor described by a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">safetensors dtype code (F32, I64, …).</param>
/// <param name="Shape">Shape.</param>
/// <param name="Begin">Start of the data, relative to the end of the header.</param>
/// <param name="End">End (exclusive) of the data, relative to the end of the header.</param>
internal sealed record SafeTensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>A validated safetensors header: its tensors sorted by offset, and its <c>__metadata__</c> strings.</summary>
/// <param name="Entries">The tensors, sorted by their offset in the data section.</param>
/// <param name="Metadata">The <c>__metadata__</c> map (empty when the file has none).</param>
internal sealed record SafeTensorsHeaderInfo(IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Reads and checks a safetensors header before any tensor is materialised: the header length, the JSON, every dtype,
/// every shape, and that each tensor's byte range lies inside the file, matches its shape and overlaps no other.
/// A truncated or corrupted file therefore fails with a message naming the file and the tensor, not deep inside a loader.
/// The same checks serve a whole file in memory (<see cref="Validate"/>) and a file too large to hold in memory, of
/// which only the length field and the header are read (<see cref="HeaderLength"/>, then <see cref="ValidateHeader"/>).
/// </summary>
internal static class SafeTensorsHeader
{
    /// <summary>The largest header accepted (the reference reader's limit too).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    private static readonly Dictionary<string, int> DTypeSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>The size in bytes of one element of a safetensors dtype, or null for a dtype this reader does not know.</summary>
    public static int? ElementSize(string dtype) => DTypeSizes.TryGetValue(dtype, out int size) ? size : null;

    /// <summary>Validates the bytes of a whole safetensors file; returns its entries sorted by offset.</summary>
    /// <param name="file">The file's bytes.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static IReadOnlyList<SafeTensorsEntry> Validate(ReadOnlySpan<byte> file, string sourceName)
    {
        long headerLen = HeaderLength(file, file.Length, sourceName);
        return ValidateHeader(file.Slice(8, (int)headerLen), file.Length - 8 - headerLen, sourceName).Entries;
    }

    /// <summary>
    /// Reads the header length from the first 8 bytes of a file of <paramref name="fileLength"/> bytes and checks that
    /// the header fits in the file and under <see cref="MaxHeaderBytes"/>.
    /// </summary>
    /// <param name="first8">The file's first bytes (at least 8 when the file has them).</param>
    /// <param name="fileLength">The length of the whole file.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static long HeaderLength(ReadOnlySpan<byte> first8, long fileLength, string sourceName)
    {
        if (fileLength < 8 || first8.Length < 8)
            throw new InvalidDataException($"'{sourceName}' is not a safetensors file: {fileLength} bytes, shorter than the 8-byte header length.");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(first8);
        if (headerLen == 0 || headerLen > MaxHeaderBytes || (long)headerLen > fileLength - 8)
            throw new InvalidDataException($"'{sourceName}': the safetensors header claims {headerLen} bytes but the file has {fileLength - 8} after the length field (truncated or corrupted).");
        return (long)headerLen;
    }

    /// <summary>
    /// Validates a safetensors header (the JSON after the length field) against the length of the data section that
    /// follows it: dtypes, shapes, byte ranges inside the data, no overlap, no tensor named twice, and a
    /// <c>__metadata__</c> of strings.
    /// </summary>
    /// <param name="header">The header's bytes.</param>
    /// <param name="dataLength">The number of bytes after the header.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    public static SafeTensorsHeaderInfo ValidateHeader(ReadOnlySpan<byte> header, long dataLength, string sourceName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{sourceName}': the safetensors header is not valid JSON ({ex.Message}).", ex);
        }
        var entries = new List<SafeTensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{sourceName}': the safetensors header must be a JSON object.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var prop in doc.RootElement.EnumerateObject())
                {
                    // JSON allows a key twice; a second definition of a tensor would silently win in some readers.
                    if (!names.Add(prop.Name))
                        throw new InvalidDataException($"'{sourceName}': the safetensors header names '{prop.Name}' twice.");
                    if (prop.Name == "__metadata__") ReadMetadata(prop.Value, metadata, sourceName);
                    else entries.Add(ParseEntry(prop, sourceName));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or OverflowException)
            {
                // Invalid UTF-8 in a name, or a dimension product that overflows.
                throw new InvalidDataException($"'{sourceName}': the safetensors header is corrupted ({ex.Message}).", ex);
            }
        }
        entries.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long previousEnd = 0;
        foreach (var e in entries)
        {
            if (e.End > dataLength)
                throw new InvalidDataException($"'{sourceName}': tensor '{e.Name}' ends at byte {e.End} of the data section, which has only {dataLength} bytes (truncated file).");
            if (e.Begin < previousEnd)
                throw new InvalidDataException($"'{sourceName}': tensor '{e.Name}' overlaps the previous tensor.");
            previousEnd = e.End;
        }
        return new SafeTensorsHeaderInfo(entries, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string sourceName)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{sourceName}': the safetensors '__metadata__' must be an object of strings.");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"'{sourceName}': the safetensors '__metadata__' entry '{m.Name}' must be a string.");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static SafeTensorsEntry ParseEntry(JsonProperty prop, string sourceName)
    {
        string where = $"'{sourceName}', tensor '{prop.Name}'";
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new InvalidDataException($"{where}: expected an object with 'dtype', 'shape' and two 'data_offsets'.");
        string dtype = dtypeEl.GetString()!;
        if (!DTypeSizes.TryGetValue(dtype, out int size))
            throw new InvalidDataException($"{where}: unknown dtype '{dtype}'.");
        var shape = new List<long>();
        long count = 1;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new InvalidDataException($"{where}: shape entries must be non-negative integers.");
            shape.Add(dim);
            count = checked(count * dim);
        }
        if (!offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new InvalidDataException($"{where}: data_offsets must be two non-negative, increasing integers.");
        if (end - begin != checked(count * size))
            throw new InvalidDataException($"{where}: {end - begin} bytes of data for shape [{string.Join(",", shape)}] of {dtype}, expected {count * size}.");
        return new SafeTensorsEntry(prop.Name, dtype, shape.ToArray(), begin, end);
    }
}
