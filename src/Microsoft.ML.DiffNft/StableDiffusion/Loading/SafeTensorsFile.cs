using System.Diagnostics.CodeAnalysis;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.Win32.SafeHandles;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// A safetensors file opened for reading one tensor at a time. Stable Diffusion weight files are 0.3–3.4 GB — more
/// than a .NET array holds and more than should ever be in memory twice — so only the length field and the JSON header
/// are read when the file is opened (and checked by <see cref="SafeTensorsHeader"/>, the same checks the package's own
/// model files get); each tensor's bytes are then read straight into the destination tensor, or through a small
/// reused staging buffer when the element type or device differs, and checked to be finite on the way. One instance
/// is used by one thread at a time (it owns the staging buffer); the file stays open (a file replaced by a rename
/// meanwhile is not seen) until <see cref="Dispose"/>.
/// </summary>
internal sealed class SafeTensorsFile : IDisposable
{
    /// <summary>Bytes read per step by default: large enough for full disk speed, small enough to cost no memory.</summary>
    internal const int DefaultChunkBytes = 16 << 20;

    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorsEntry> _byName;
    private readonly Dictionary<ScalarType, Tensor> _staging = new();

    private readonly int _chunkBytes;

    private SafeTensorsFile(string path, SafeFileHandle handle, long length, long dataStart, SafeTensorsHeaderInfo header, int chunkBytes)
    {
        _chunkBytes = chunkBytes;
        Path = path;
        _handle = handle;
        Length = length;
        DataStart = dataStart;
        Entries = header.Entries;
        Metadata = header.Metadata;
        _byName = header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's full path, used in every error message.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes when it was opened.</summary>
    public long Length { get; }

    /// <summary>Where the data section starts: 8 + the header length.</summary>
    public long DataStart { get; }

    /// <summary>The tensors, sorted by their offset (reading them in this order reads the file front to back).</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    /// <summary>The header's <c>__metadata__</c> strings (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Opens <paramref name="path"/> and validates its header (names, dtypes, shapes, byte ranges inside the file, no
    /// overlap) without reading any tensor. Errors are <see cref="FileNotFoundException"/> or
    /// <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    /// <param name="path">A .safetensors file.</param>
    /// <param name="chunkBytes">Bytes read per step (tests make it small to cross chunk boundaries).</param>
    public static SafeTensorsFile Open(string path, int chunkBytes = DefaultChunkBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 8);
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Safetensors file '{full}' does not exist.", full);
        var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> first8 = stackalloc byte[8];
            int got = ReadFully(handle, first8[..(int)Math.Min(8, length)], 0);
            long headerLength = SafeTensorsHeader.HeaderLength(first8[..got], length, full);
            var header = new byte[headerLength];
            if (ReadFully(handle, header, 8) != header.Length)
                throw new InvalidDataException($"'{full}': the file ended inside its safetensors header (truncated).");
            var info = SafeTensorsHeader.ValidateHeader(header, length - 8 - headerLength, full);
            return new SafeTensorsFile(full, handle, length, 8 + headerLength, info, chunkBytes);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Finds the tensor named <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <param name="entry">The tensor, when found.</param>
    public bool TryGetEntry(string name, [NotNullWhen(true)] out SafeTensorsEntry? entry) => _byName.TryGetValue(name, out entry);

    /// <summary>The tensor named <paramref name="name"/>, or an <see cref="InvalidDataException"/> naming the file.</summary>
    /// <param name="name">The tensor's name in the file.</param>
    public SafeTensorsEntry Entry(string name) =>
        TryGetEntry(name, out var e) ? e : throw new InvalidDataException($"'{Path}' has no tensor '{name}'.");

    /// <summary>
    /// Copies the tensor <paramref name="entry"/> into <paramref name="destination"/> in place, converting its element
    /// type (F16, BF16 or F32 into any floating-point tensor; I64 into any integer tensor) and moving it to the
    /// destination's device. The shapes must be equal. A NaN or infinite value in the file, or one that overflows a
    /// float16 destination, gives an <see cref="InvalidDataException"/> naming the file, the tensor and the element; the
    /// destination then holds part of the tensor.
    /// </summary>
    /// <param name="entry">A tensor of this file.</param>
    /// <param name="destination">The tensor to fill (a module's parameter or buffer, or a new tensor).</param>
    public void CopyTo(SafeTensorsEntry entry, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (!_byName.TryGetValue(entry.Name, out var own) || !ReferenceEquals(own, entry))
            throw new ArgumentException($"Tensor '{entry.Name}' is not an entry of '{Path}'.", nameof(entry));
        if (!destination.shape.SequenceEqual(entry.Shape))
            throw new InvalidDataException($"'{Path}': tensor '{entry.Name}' has shape {Shape(entry.Shape)}, the destination {Shape(destination.shape)}.");
        if (!SafeTensorsDTypes.CanCopy(entry.DType, destination.dtype))
            throw new InvalidDataException($"'{Path}': tensor '{entry.Name}' is stored as {entry.DType}, which cannot be loaded into a {destination.dtype} tensor (readable: {SafeTensorsDTypes.Readable}).");
        var fileType = SafeTensorsDTypes.ToScalarType(entry.DType)!.Value;
        long elements = entry.Shape.Aggregate(1L, (a, b) => a * b);
        if (elements == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (!destination.is_contiguous())
        {
            // Rare (a transposed view): read the whole tensor, then copy it over the view.
            var whole = empty(entry.Shape, fileType);
            ReadInto(entry, whole.view(-1), 0);
            destination.copy_(whole);
            CheckNarrowing(entry, fileType, destination.reshape(-1), 0);
            return;
        }
        var flat = destination.view(-1);
        // Same type on the CPU: the file's bytes go straight into the destination's memory, no copy at all.
        bool direct = destination.device_type == DeviceType.CPU && destination.dtype == fileType;
        int elementSize = SafeTensorsHeader.ElementSize(entry.DType)!.Value;
        long chunk = _chunkBytes / elementSize;
        for (long start = 0; start < elements; start += chunk)
        {
            long n = Math.Min(chunk, elements - start);
            var part = flat.narrow(0, start, n);
            if (direct)
            {
                ReadInto(entry, part, start);
                continue;
            }
            var staged = Staging(fileType, chunk).narrow(0, 0, n);
            ReadInto(entry, staged, start);
            part.copy_(staged);
            CheckNarrowing(entry, fileType, part, start);
        }
    }

    /// <summary>
    /// Reads the tensor named <paramref name="name"/> into a new CPU tensor of <paramref name="dtype"/> (default: the
    /// file's own type); the caller disposes it. Checked like <see cref="CopyTo"/>.
    /// </summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <param name="dtype">The element type of the result, or null for the file's.</param>
    public Tensor Read(string name, ScalarType? dtype = null)
    {
        var entry = Entry(name);
        var fileType = SafeTensorsDTypes.ToScalarType(entry.DType)
            ?? throw new InvalidDataException($"'{Path}': tensor '{name}' is stored as {entry.DType}; the loader reads {SafeTensorsDTypes.Readable}.");
        var result = empty(entry.Shape, dtype ?? fileType);
        try
        {
            CopyTo(entry, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Closes the file and frees the staging buffers.</summary>
    public void Dispose()
    {
        foreach (var t in _staging.Values) t.Dispose();
        _staging.Clear();
        _handle.Dispose();
    }

    /// <summary>Formats a shape the way every loader message does: [320,4,3,3].</summary>
    internal static string Shape(IEnumerable<long> shape) => "[" + string.Join(",", shape) + "]";

    private Tensor Staging(ScalarType type, long elements)
    {
        if (!_staging.TryGetValue(type, out var buffer))
        {
            // Outlives the caller's dispose scope: it is reused for every tensor of this file and freed by Dispose.
            buffer = empty(elements, type).DetachFromDisposeScope();
            _staging[type] = buffer;
        }
        return buffer;
    }

    /// <summary>Reads a tensor's elements from <paramref name="start"/> on into a contiguous CPU tensor (as many as it holds) and checks them.</summary>
    private void ReadInto(SafeTensorsEntry entry, Tensor target, long start)
    {
        int elementSize = SafeTensorsHeader.ElementSize(entry.DType)!.Value;
        var span = target.bytes;
        long offset = DataStart + entry.Begin + start * elementSize;
        if (ReadFully(_handle, span, offset) != span.Length)
            throw new InvalidDataException($"'{Path}' ended while reading tensor '{entry.Name}' (the file was truncated or replaced after it was opened).");
        long bad = SafeTensorsFiniteness.FirstNonFinite(span, entry.DType);
        if (bad >= 0)
            throw new InvalidDataException(
                $"'{Path}': tensor '{entry.Name}' holds non-finite weights (NaN or infinity), the first at element {start + bad:N0}; " +
                "a model with NaN weights generates only NaN.");
    }

    /// <summary>A finite float32 or bfloat16 value beyond ±65504 becomes infinite in float16: refuse it rather than load it.</summary>
    private void CheckNarrowing(SafeTensorsEntry entry, ScalarType fileType, Tensor part, long start)
    {
        if (part.dtype != ScalarType.Float16 || fileType == ScalarType.Float16) return;
        using var finite = part.isfinite();
        if (finite.all().item<bool>()) return;
        using var firstBad = finite.logical_not().nonzero()[0, 0].cpu();
        throw new InvalidDataException(
            $"'{Path}': tensor '{entry.Name}' has values beyond float16's range (±65504), the first at element {start + firstBad.item<long>():N0}; " +
            "load this model in float32 or bfloat16.");
    }

    private static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
