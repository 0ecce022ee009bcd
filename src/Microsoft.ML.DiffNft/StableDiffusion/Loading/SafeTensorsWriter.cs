using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// Writes named tensors as a safetensors file that the reference reader and other tools load: the layout the
/// reference writer produces (tensors ordered by dtype, widest first, then by name; a compact JSON header with
/// <c>__metadata__</c> first, padded with spaces to a multiple of 8 so the data is aligned; contiguous data). The file is
/// written atomically (a temporary file, then a rename) and each tensor is streamed in pieces, converted to the stored
/// type on its own device, so a multi-gigabyte model is never held twice in memory.
/// </summary>
internal static class SafeTensorsWriter
{
    private const int ChunkBytes = 16 << 20;

    // The reference writer's dtype order (its enum order, compared descending): I64 before F32 before BF16 before F16.
    private static readonly string[] DTypeOrder = ["F16", "BF16", "F32", "I64"];

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // The reference writer escapes only quotes, backslashes and control characters; match it byte for byte.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/>: floating-point tensors as <paramref name="dtype"/>,
    /// int64 tensors as I64. Every value must be finite in the stored type (a float16 file cannot hold 1e5).
    /// </summary>
    /// <param name="path">The file to write (replaced atomically when it exists).</param>
    /// <param name="tensors">Named tensors, on any device; names must be unique and non-empty.</param>
    /// <param name="dtype">The stored type of the floating-point tensors.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings (such as <c>format</c> = <c>pt</c>).</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, SafeTensorsDType dtype = SafeTensorsDType.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var items = Plan(tensors, dtype, path);
        byte[] header = Header(items, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var item in items) WriteData(stream, item, path);
        });
    }

    /// <summary>One tensor as it will be stored.</summary>
    private sealed record Item(string Name, Tensor Tensor, string Code, ScalarType Type, long[] Shape, long Bytes);

    private static List<Item> Plan(IEnumerable<KeyValuePair<string, Tensor>> tensors, SafeTensorsDType dtype, string path)
    {
        var items = new List<Item>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new ArgumentException($"Cannot write '{path}': a tensor name must be non-empty and not '__metadata__' (got '{name}').", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"Cannot write '{path}': tensor '{name}' is given twice.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, $"tensors['{name}']");
            ScalarType type;
            if (tensor.is_floating_point()) type = SafeTensorsDTypes.ToScalarType(dtype);
            else if (tensor.dtype == ScalarType.Int64) type = ScalarType.Int64;
            else
                throw new ArgumentException($"Cannot write '{path}': tensor '{name}' is {tensor.dtype}; this writer stores floating-point tensors and int64 buffers.", nameof(tensors));
            string code = SafeTensorsDTypes.ToCode(type)!;
            long bytes = checked(tensor.numel() * SafeTensorsHeader.ElementSize(code)!.Value);
            items.Add(new Item(name, tensor, code, type, tensor.shape, bytes));
        }
        items.Sort((a, b) =>
        {
            int byType = Array.IndexOf(DTypeOrder, b.Code).CompareTo(Array.IndexOf(DTypeOrder, a.Code));
            // The reference compares names as UTF-8 bytes.
            return byType != 0 ? byType : Encoding.UTF8.GetBytes(a.Name).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b.Name));
        });
        return items;
    }

    /// <summary>The header JSON, padded with spaces to a multiple of 8 bytes.</summary>
    private static byte[] Header(List<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var json = new Utf8JsonWriter(ms, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(value, $"metadata['{key}']");
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var item in items)
            {
                json.WriteStartObject(item.Name);
                json.WriteString("dtype", item.Code);
                json.WriteStartArray("shape");
                foreach (long d in item.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + item.Bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += item.Bytes;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < padding; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    /// <summary>Streams one tensor: converted and copied to the CPU a piece at a time, each piece checked to be finite.</summary>
    private static void WriteData(Stream stream, Item item, string path)
    {
        long elements = item.Tensor.numel();
        if (elements == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = item.Tensor.detach().contiguous().view(-1);
        long chunk = ChunkBytes / SafeTensorsHeader.ElementSize(item.Code)!.Value;
        for (long start = 0; start < elements; start += chunk)
        {
            using var pieceScope = NewDisposeScope();
            long n = Math.Min(chunk, elements - start);
            var piece = flat.narrow(0, start, n).to(item.Type).cpu().contiguous();
            var bytes = piece.bytes;
            long bad = SafeTensorsFiniteness.FirstNonFinite(bytes, item.Code);
            if (bad >= 0)
                throw new InvalidDataException(
                    $"Cannot write '{Path.GetFullPath(path)}': tensor '{item.Name}' has a NaN or infinite value as {item.Code} at element {start + bad:N0}" +
                    (item.Code == "F16" ? " (float16 holds at most ±65504; write F32 or BF16)." : "."));
            stream.Write(bytes);
        }
    }
}
