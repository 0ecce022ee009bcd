using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Caches the features of a reference image set, keyed by a SHA-256 hash of what determines them: the extractor's
/// <see cref="IImageFeatureExtractor.CacheIdentity"/> and, for each image in order, its name, size and decoded RGBA
/// pixels. Hashing the decoded pixels rather than the files' bytes keeps the cache valid when the same images are
/// re-encoded or come from an atlas instead of single files, and invalidates it when any pixel, name or the selection
/// changes. Entries are model archives (<see cref="ModelArchive"/>: a safetensors matrix and a JSON note) written atomically.
/// </summary>
internal sealed class ReferenceFeatureCache
{
    private const string FeaturesEntry = "features.safetensors";
    private const string InfoEntry = "info.json";

    public ReferenceFeatureCache(string directory) => Directory = directory;

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary>
    /// The default folder: <c>$DIFFNFT_CACHE_DIR</c> when set, else <c>$XDG_CACHE_HOME/diffnft/reference-features</c>,
    /// else <c>~/.cache/diffnft/reference-features</c> (on Windows, under the local application data folder).
    /// </summary>
    public static string DefaultDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DIFFNFT_CACHE_DIR") is { Length: > 0 } explicitDir) return explicitDir;
            string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(root))
            {
                root = OperatingSystem.IsWindows()
                    ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            }
            return Path.Combine(root, "diffnft", "reference-features");
        }
    }

    /// <summary>The hash of an image set for an extractor identity.</summary>
    public static string Key(string identity, IReadOnlyList<string> names, IReadOnlyList<RgbaImage> images)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var number = new byte[4];
        void Int(int v)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(number, v);
            hash.AppendData(number);
        }
        void Text(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Int(bytes.Length);
            hash.AppendData(bytes);
        }
        Text("diffnft-reference-features-v1");
        Text(identity);
        Int(images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            Text(names[i]);
            Int(images[i].Width);
            Int(images[i].Height);
            hash.AppendData(images[i].Pixels);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The file of a key.</summary>
    public string PathFor(string extractorName, string key) => Path.Combine(Directory, $"{extractorName}-{key[..32]}.features.zip");

    /// <summary>Reads cached features, or returns null when absent or unreadable (a broken entry is recomputed, never trusted).</summary>
    public float[][]? TryRead(string extractorName, string key, int count, int dimension, out string? problem)
    {
        problem = null;
        string path = PathFor(extractorName, key);
        if (!File.Exists(path)) return null;
        try
        {
            var entries = ModelArchive.Read(path);
            var info = JsonDocument.Parse(ModelArchive.Require(entries, InfoEntry, path)).RootElement;
            if (info.GetProperty("key").GetString() != key)
                throw new InvalidDataException($"'{path}' holds features of another reference set.");
            var tensors = ModelArchive.LoadTensors(entries, FeaturesEntry, path,
                new Dictionary<string, long[]> { ["features"] = [count, dimension] });
            using var t = tensors["features"];
            var flat = t.to_type(ScalarType.Float32).data<float>().ToArray();
            var rows = new float[count][];
            for (int i = 0; i < count; i++) rows[i] = flat.AsSpan(i * dimension, dimension).ToArray();
            return rows;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problem = $"ignored the unreadable cache entry '{path}': {ex.Message}";
            return null;
        }
    }

    /// <summary>Writes features atomically; returns the file.</summary>
    public string Write(string extractorName, string key, string identity, float[][] features)
    {
        string path = PathFor(extractorName, key);
        int n = features.Length, d = n == 0 ? 0 : features[0].Length;
        var flat = new float[(long)n * d];
        for (int i = 0; i < n; i++) features[i].CopyTo(flat, (long)i * d);
        TorchRuntime.EnsureLoaded();
        using var t = tensor(flat, [n, d]);
        var info = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["key"] = key,
            ["extractor"] = extractorName,
            ["identity"] = identity,
            ["count"] = n,
            ["dimension"] = d,
        });
        ModelArchive.Write(path, new Dictionary<string, byte[]>
        {
            [FeaturesEntry] = ModelArchive.SaveTensors(new Dictionary<string, Tensor> { ["features"] = t }),
            [InfoEntry] = info,
        });
        return path;
    }
}
