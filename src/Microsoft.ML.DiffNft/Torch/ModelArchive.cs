using System.IO.Compression;
using Microsoft.ML.DiffNft.Imaging;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// The package's model file: one zip archive of named entries (JSON options, vocabulary, safetensors weights).
/// Reading is defensive: entry names must be plain relative names (nothing can escape a target folder), sizes are
/// bounded, duplicates rejected, and everything is read into memory — no entry is ever extracted to disk by name.
/// </summary>
internal static class ModelArchive
{
    /// <summary>Largest entry accepted when reading (a guard against zip bombs).</summary>
    public const long MaxEntryBytes = 4L * 1024 * 1024 * 1024;

    /// <summary>Writes the entries atomically (temporary file, then rename).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, byte[]> entries)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var name in entries.Keys) CheckEntryName(name, path);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, bytes) in entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
                // A fixed timestamp keeps archives of identical models byte-identical.
                entry.LastWriteTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var s = entry.Open();
                s.Write(bytes);
            }
        });
    }

    /// <summary>Reads every entry into memory, validating names and sizes.</summary>
    public static Dictionary<string, byte[]> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                CheckEntryName(entry.FullName, path);
                if (entry.Length > MaxEntryBytes || entry.Length < 0)
                    throw new InvalidDataException($"Model file '{path}': entry '{entry.FullName}' declares {entry.Length} bytes, over the {MaxEntryBytes}-byte limit.");
                if (result.ContainsKey(entry.FullName))
                    throw new InvalidDataException($"Model file '{path}': entry '{entry.FullName}' appears twice.");
                var bytes = new byte[entry.Length];
                using (var s = entry.Open())
                {
                    s.ReadExactly(bytes);
                    if (s.ReadByte() != -1)
                        throw new InvalidDataException($"Model file '{path}': entry '{entry.FullName}' is longer than it declares.");
                }
                result[entry.FullName] = bytes;
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException && ex is not FileNotFoundException)
        {
            if (ex is InvalidDataException ide && ide.Message.StartsWith("Model file", StringComparison.Ordinal)) throw;
            throw new InvalidDataException($"Model file '{path}' is not a readable DiffNft model archive (truncated or corrupted): {ex.Message}", ex);
        }
        return result;
    }

    /// <summary>Returns an entry or throws an error naming the file and the missing entry.</summary>
    public static byte[] Require(IReadOnlyDictionary<string, byte[]> entries, string name, string path) =>
        entries.TryGetValue(name, out var bytes) ? bytes
            : throw new InvalidDataException($"Model file '{path}' has no entry '{name}'; it is not a complete DiffNft model.");

    /// <summary>Serialises named tensors as safetensors (TorchSharp.PyBridge), readable by Python's safetensors.</summary>
    public static byte[] SaveTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var cpu = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous(), StringComparer.Ordinal);
        using var ms = new MemoryStream();
        Safetensors.SaveStateDict(ms, cpu);
        foreach (var (k, v) in cpu)
            if (!ReferenceEquals(v, tensors[k])) v.Dispose();
        return ms.ToArray();
    }

    /// <summary>
    /// Loads the weights entry <paramref name="entry"/> of a model archive into <paramref name="network"/>: the entry must
    /// exist, hold exactly the network's tensors with its shapes, and only finite values. On any failure the network is
    /// disposed and an <see cref="InvalidDataException"/> names <paramref name="path"/> and the entry.
    /// </summary>
    public static void LoadInto(nn.Module network, IReadOnlyDictionary<string, byte[]> entries, string entry, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        try
        {
            var expected = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape, StringComparer.Ordinal);
            var weights = LoadTensors(Require(entries, entry, path), $"{path}:{entry}", expected);
            try
            {
                if (weights.Values.Any(w => !isfinite(w).all().item<bool>()))
                    throw new InvalidDataException($"Model file '{path}': '{entry}' holds non-finite weights (NaN or infinity).");
                network.load_state_dict(weights);
            }
            finally
            {
                foreach (var w in weights.Values) w.Dispose();
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads safetensors bytes after validating the header (<see cref="SafeTensorsHeader.Validate"/>), optionally checking
    /// every tensor's shape against <paramref name="expectedShapes"/>.
    /// </summary>
    public static Dictionary<string, Tensor> LoadTensors(byte[] bytes, string sourceName, IReadOnlyDictionary<string, long[]>? expectedShapes = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var entries = SafeTensorsHeader.Validate(bytes, sourceName);
        if (expectedShapes is not null)
        {
            var byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
            foreach (var (name, shape) in expectedShapes)
            {
                if (!byName.TryGetValue(name, out var e))
                    throw new InvalidDataException($"'{sourceName}' has no tensor '{name}' that the model options require.");
                if (!e.Shape.SequenceEqual(shape))
                    throw new InvalidDataException($"'{sourceName}': tensor '{name}' has shape [{string.Join(",", e.Shape)}], the model options require [{string.Join(",", shape)}].");
            }
            foreach (var e in entries)
                if (!expectedShapes.ContainsKey(e.Name))
                    throw new InvalidDataException($"'{sourceName}' has an unexpected tensor '{e.Name}' (saved by a different model architecture?).");
        }
        using var ms = new MemoryStream(bytes, writable: false);
        return Safetensors.LoadStateDict(ms);
    }

    private static void CheckEntryName(string name, string path)
    {
        bool bad = string.IsNullOrEmpty(name) || name.Length > 200 || name.Contains('\\') || name.Contains(':')
                   || name.StartsWith('/') || name.Split('/').Any(p => p is "" or "." or "..");
        if (bad)
            throw new InvalidDataException($"Model file '{path}' has an entry named '{name}', which is not a plain relative name (it could escape the model folder).");
    }
}
