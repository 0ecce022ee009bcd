using System.Globalization;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// The Nouns part library: background colours and the run-length-encoded body, accessory, head and glasses parts of
/// <c>image-data.json</c>, decoded onto the 32×32 grid. <see cref="Default"/> is the built-in CC0 art
/// (2 backgrounds, 30 bodies, 143 accessories, 254 heads, 23 glasses); <see cref="Load"/> reads another file.
/// </summary>
internal sealed class NounsArt
{
    /// <summary>Width and height of the Nouns grid in pixels.</summary>
    public const int GridSize = 32;

    /// <summary>Number of pixels of the Nouns grid.</summary>
    public const int PixelCount = GridSize * GridSize;

    internal const string ResourceName = "Microsoft.ML.DiffNft.Nouns.image-data.json";

    private static readonly Lazy<NounsArt> s_default = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly NounsPart[][] _layers;
    private readonly Dictionary<string, NounsPart> _byFileName;

    private NounsArt(NounsPart[][] layers, string source)
    {
        _layers = layers;
        Source = source;
        _byFileName = new Dictionary<string, NounsPart>(StringComparer.Ordinal);
        foreach (var layer in layers)
            foreach (var part in layer)
                _byFileName.TryAdd(part.FileName, part);
    }

    /// <summary>The built-in Nouns art (CC0), parsed once from the package's embedded <c>image-data.json</c>.</summary>
    public static NounsArt Default => s_default.Value;

    /// <summary>Where the art was read from (a file path or the embedded resource name).</summary>
    public string Source { get; }

    /// <summary>The parts of one layer, in <c>image-data.json</c> order (index = seed value).</summary>
    public IReadOnlyList<NounsPart> Parts(NounsLayer layer) => _layers[LayerSlot(layer)];

    /// <summary>Number of parts of one layer.</summary>
    public int PartCount(NounsLayer layer) => _layers[LayerSlot(layer)].Length;

    /// <summary>The part a seed value selects. Throws <see cref="ArgumentOutOfRangeException"/> naming the valid range.</summary>
    public NounsPart Part(NounsLayer layer, int index)
    {
        var parts = _layers[LayerSlot(layer)];
        if ((uint)index >= (uint)parts.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"{NounsLayers.TraitType(layer)} index {index} is out of range: valid values are 0 to {parts.Length - 1}.");
        return parts[index];
    }

    /// <summary>
    /// Finds a part by its file name (<c>head-goat</c>, <c>glasses-square-red</c>; backgrounds by hex colour), or null.
    /// </summary>
    public NounsPart? FindPart(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return _byFileName.GetValueOrDefault(fileName.Trim());
    }

    /// <summary>Finds a part of a layer by its trait value (<c>goat</c>, <c>square red</c>, <c>cool</c>), or null.</summary>
    public NounsPart? FindByTraitValue(NounsLayer layer, string traitValue)
    {
        ArgumentNullException.ThrowIfNull(traitValue);
        foreach (var part in _layers[LayerSlot(layer)])
            if (string.Equals(part.TraitValue, traitValue, StringComparison.Ordinal))
                return part;
        return null;
    }

    /// <summary>Number of distinct seeds (product of the layer sizes): 50,124,360 for the built-in art.</summary>
    public long CombinationCount
    {
        get
        {
            long n = 1;
            foreach (var layer in _layers) n *= layer.Length;
            return n;
        }
    }

    /// <summary>
    /// Reads an <c>image-data.json</c> file (same format as the built-in one). Files without <c>bgcolors</c> (such as the
    /// Nouns SDK's test vector) need <paramref name="backgroundColors"/>. Files whose parts are not grouped into
    /// <c>bodies</c>/<c>accessories</c>/<c>heads</c>/<c>glasses</c> are grouped by file-name prefix
    /// (<c>body-</c>, <c>accessory-</c>, <c>head-</c>, <c>glasses-</c>).
    /// </summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="backgroundColors">Hex colours (<c>d5d7e1</c>) used when the file has no <c>bgcolors</c>.</param>
    public static NounsArt Load(string path, IReadOnlyList<string>? backgroundColors = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Nouns image data file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path, backgroundColors);
    }

    /// <summary>Parses <c>image-data.json</c> text; <paramref name="sourceName"/> is used in error messages.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="sourceName">A name for error messages (usually the file path).</param>
    /// <param name="backgroundColors">Hex colours used when the JSON has no <c>bgcolors</c>.</param>
    public static NounsArt Parse(string json, string sourceName = "image-data.json", IReadOnlyList<string>? backgroundColors = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(sourceName);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"Nouns image data '{sourceName}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
        using (doc)
            return NounsImageDataReader.Read(doc.RootElement, sourceName, backgroundColors);
    }

    internal static NounsArt Create(NounsPart[][] layers, string source) => new(layers, source);

    private static NounsArt LoadDefault()
    {
        var assembly = typeof(NounsArt).Assembly;
        using var stream = assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource '{ResourceName}' is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), ResourceName);
    }

    private static int LayerSlot(NounsLayer layer)
    {
        int slot = (int)layer;
        if ((uint)slot >= NounsLayers.Count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, "Not a Nouns layer.");
        return slot;
    }

    /// <summary>The conventional names of the two official backgrounds; other colours are named by their hex code.</summary>
    internal static string BackgroundTraitValue(string hex) => hex switch
    {
        "d5d7e1" => "cool",
        "e1d7d5" => "warm",
        _ => hex,
    };

    internal static bool TryParseHexColor(string? hex, out byte r, out byte g, out byte b)
    {
        r = g = b = 0;
        if (hex is null || hex.Length != 6) return false;
        if (!int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v)) return false;
        r = (byte)(v >> 16);
        g = (byte)(v >> 8);
        b = (byte)v;
        return true;
    }
}
