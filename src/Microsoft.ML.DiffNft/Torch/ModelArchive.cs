using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Saving;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// The package's model file: one zip archive of named entries (JSON options, vocabulary, safetensors weights) plus the
/// SHA-256 of every entry. It is the one reader and writer of every torch model kind — diffusion models, reward models,
/// trait classifiers, training and fine-tuning checkpoints, cached features — so each gets the same checks:
/// <see cref="Read"/> checks entry names, sizes (capped while inflating), every entry's CRC-32 and the hash list, before
/// anything is deserialised; <see cref="LoadTensors(IReadOnlyDictionary{string, byte[]}, string, string, IReadOnlyDictionary{string, long[]}?)"/>
/// checks the safetensors header, shapes and that every value is finite. Everything is read into memory — no entry is
/// ever extracted to disk by name.
/// </summary>
internal static class ModelArchive
{
    /// <summary>Largest entry accepted when reading (a guard against zip bombs).</summary>
    public const long MaxEntryBytes = ArchiveEntries.MaxEntryBytes;

    /// <summary>Writes the entries and their hash list atomically (temporary file, then rename).</summary>
    public static void Write(string path, IReadOnlyDictionary<string, byte[]> entries)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var name in entries.Keys) ArchiveEntries.CheckEntryName(name, path);
        AtomicFile.Write(path, stream => ArchiveEntries.Write(stream, entries, path, hashList: true));
    }

    /// <summary>
    /// Reads every entry into memory, validating names, sizes, CRC-32s and the hash list; the list itself is not among
    /// the entries returned.
    /// </summary>
    public static Dictionary<string, byte[]> Read(string path) => ArchiveEntries.Read(path);

    /// <summary>Returns an entry or throws an error naming the file and the missing entry.</summary>
    public static byte[] Require(IReadOnlyDictionary<string, byte[]> entries, string name, string path) =>
        ArchiveEntries.Require(entries, name, path);

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
            var weights = LoadTensors(entries, entry, path, expected);
            try
            {
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
    /// The tensors of the safetensors entry <paramref name="entry"/> of a model archive read by <see cref="Read"/>: the
    /// way every model kind turns its weights (or optimizer state) into tensors. Errors name <paramref name="path"/> and
    /// the entry; see <see cref="LoadTensors(byte[], string, IReadOnlyDictionary{string, long[]}?)"/> for the checks.
    /// </summary>
    public static Dictionary<string, Tensor> LoadTensors(IReadOnlyDictionary<string, byte[]> entries, string entry, string path,
        IReadOnlyDictionary<string, long[]>? expectedShapes = null) =>
        LoadTensors(Require(entries, entry, path), $"{path}:{entry}", expectedShapes);

    /// <summary>
    /// Loads safetensors bytes after validating the header (<see cref="SafeTensorsHeader.Validate"/>) and that every
    /// floating-point value is finite (<see cref="SafeTensorsFiniteness"/>), optionally checking every tensor's shape
    /// against <paramref name="expectedShapes"/>.
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
        SafeTensorsFiniteness.Check(bytes, entries, sourceName);
        using var ms = new MemoryStream(bytes, writable: false);
        return Safetensors.LoadStateDict(ms);
    }
}
