using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>The manifest every model file starts with: which model it holds, and in which version of its format.</summary>
internal interface IModelManifest
{
    string Format { get; }

    int Version { get; }
}

/// <summary>
/// The one save/load shape of the library's torch models (diffusion model, rarity reward, trait classifier): a
/// <see cref="ModelArchive"/> with a JSON manifest naming the format and its version, the weights as safetensors and,
/// for trained models that were measured, their metrics as JSON.
/// </summary>
internal static class ModelFile
{
    public const string ManifestEntry = "diffnft-model.json";
    public const string WeightsEntry = "weights.safetensors";
    public const string MetricsEntry = "metrics.json";

    /// <summary>Writes the manifest, the network's weights and, when given, the metrics, atomically.</summary>
    public static void Save<TManifest>(string path, TManifest manifest, JsonSerializerOptions json, nn.Module network, string? metricsJson = null)
        where TManifest : IModelManifest
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, ToEntries(manifest, json, network, metricsJson));
    }

    /// <summary>The entries <see cref="Save"/> writes: also a part of a saved pipeline (the model inside it).</summary>
    public static Dictionary<string, byte[]> ToEntries<TManifest>(TManifest manifest, JsonSerializerOptions json, nn.Module network, string? metricsJson = null)
        where TManifest : IModelManifest
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ManifestEntry] = JsonSerializer.SerializeToUtf8Bytes(manifest, json),
            [WeightsEntry] = ModelArchive.SaveTensors(network.state_dict()),
        };
        if (metricsJson is not null) entries[MetricsEntry] = Encoding.UTF8.GetBytes(metricsJson);
        return entries;
    }

    /// <summary>
    /// Reads a model file and its manifest, which must name <paramref name="format"/> in <paramref name="version"/>;
    /// anything else gives an <see cref="InvalidDataException"/> that names the file (<paramref name="description"/>
    /// says what was expected, as in "is not a DiffNft rarity reward model").
    /// </summary>
    public static (Dictionary<string, byte[]> Entries, TManifest Manifest) Open<TManifest>(string path, string format, int version,
        string description, JsonSerializerOptions json)
        where TManifest : class, IModelManifest
    {
        var entries = ModelArchive.Read(path);
        return (entries, ReadManifest<TManifest>(entries, path, format, version, description, json));
    }

    /// <summary>The checked manifest of a model file's entries (see <see cref="Open"/>); <paramref name="path"/> names it in errors.</summary>
    public static TManifest ReadManifest<TManifest>(IReadOnlyDictionary<string, byte[]> entries, string path, string format, int version,
        string description, JsonSerializerOptions json)
        where TManifest : class, IModelManifest
    {
        TManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<TManifest>(ModelArchive.Require(entries, ManifestEntry, path), json);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"Model file '{path}': '{ManifestEntry}' is not valid ({ex.Message}).", ex);
        }
        if (manifest is null || manifest.Format != format)
            throw new InvalidDataException($"Model file '{path}' is not a DiffNft {description} (format '{manifest?.Format}', expected '{format}').");
        if (manifest.Version != version)
            throw new InvalidDataException($"Model file '{path}' has format version {manifest.Version}; this build reads version {version}.");
        return manifest;
    }

    /// <summary>The metrics JSON of a model file, or null when it has none.</summary>
    public static string? Metrics(IReadOnlyDictionary<string, byte[]> entries) =>
        entries.TryGetValue(MetricsEntry, out var m) ? Encoding.UTF8.GetString(m) : null;
}
