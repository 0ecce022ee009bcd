using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Decodes the Nouns <c>image-data.json</c> format: a palette of hex colours (index 0 = transparent), background
/// colours, and per part a hex string <c>0x</c> + bytes: palette index, bounding box <c>top, right, bottom, left</c>
/// (right exclusive, bottom inclusive), then <c>(runLength, colorIndex)</c> pairs filling the box row by row.
/// </summary>
internal static class NounsImageDataReader
{
    private static readonly (NounsLayer Layer, string Key, string Prefix)[] s_partLayers =
    [
        (NounsLayer.Body, "bodies", "body-"),
        (NounsLayer.Accessory, "accessories", "accessory-"),
        (NounsLayer.Head, "heads", "head-"),
        (NounsLayer.Glasses, "glasses", "glasses-"),
    ];

    public static NounsArt Read(JsonElement root, string source, IReadOnlyList<string>? backgroundColors)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Nouns image data '{source}': expected a JSON object at the top level, found {root.ValueKind}.");

        var palette = ReadPalette(root, source);
        var layers = new NounsPart[NounsLayers.Count][];
        layers[(int)NounsLayer.Background] = ReadBackgrounds(root, source, backgroundColors);

        if (!root.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Nouns image data '{source}': missing the 'images' object.");

        bool standard = s_partLayers.Any(l => images.TryGetProperty(l.Key, out _));
        if (standard)
        {
            foreach (var (layer, key, prefix) in s_partLayers)
            {
                if (!images.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array)
                    throw new InvalidDataException($"Nouns image data '{source}': missing the array 'images.{key}'.");
                var entries = new List<(string FileName, string Data, string Where)>();
                int i = 0;
                foreach (var entry in list.EnumerateArray())
                {
                    entries.Add(ReadEntry(entry, source, $"images.{key}[{i}]"));
                    i++;
                }
                if (entries.Count == 0)
                    throw new InvalidDataException($"Nouns image data '{source}': 'images.{key}' is empty; every layer needs at least one part.");
                layers[(int)layer] = DecodeLayer(layer, prefix, entries, palette, source);
            }
        }
        else
        {
            // The Nouns SDK's test data keeps all parts in one list ("root"); sort them into layers by file-name prefix.
            var grouped = s_partLayers.ToDictionary(l => l.Layer, _ => new List<(string, string, string)>());
            foreach (var group in images.EnumerateObject())
            {
                if (group.Value.ValueKind != JsonValueKind.Array)
                    throw new InvalidDataException($"Nouns image data '{source}': 'images.{group.Name}' must be an array of parts.");
                int i = 0;
                foreach (var entry in group.Value.EnumerateArray())
                {
                    string where = $"images.{group.Name}[{i}]";
                    var e = ReadEntry(entry, source, where);
                    var match = s_partLayers.FirstOrDefault(l => e.FileName.StartsWith(l.Prefix, StringComparison.Ordinal));
                    if (match.Prefix is null)
                        throw new InvalidDataException(
                            $"Nouns image data '{source}', {where}: file name '{e.FileName}' does not start with body-, accessory-, head- or glasses-, so its layer is unknown.");
                    grouped[match.Layer].Add(e);
                    i++;
                }
            }
            foreach (var (layer, key, prefix) in s_partLayers)
            {
                if (grouped[layer].Count == 0)
                    throw new InvalidDataException($"Nouns image data '{source}': no {key} (parts named '{prefix}…').");
                layers[(int)layer] = DecodeLayer(layer, prefix, grouped[layer], palette, source);
            }
        }
        return NounsArt.Create(layers, source);
    }

    private static (byte R, byte G, byte B)?[] ReadPalette(JsonElement root, string source)
    {
        if (!root.TryGetProperty("palette", out var palette) || palette.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"Nouns image data '{source}': missing the 'palette' array of hex colours.");
        var result = new List<(byte, byte, byte)?>();
        int i = 0;
        foreach (var entry in palette.EnumerateArray())
        {
            string? hex = entry.ValueKind == JsonValueKind.String ? entry.GetString() : null;
            if (hex == "") result.Add(null); // the transparent entry
            else if (NounsArt.TryParseHexColor(hex, out byte r, out byte g, out byte b)) result.Add((r, g, b));
            else
                throw new InvalidDataException(
                    $"Nouns image data '{source}', palette[{i}]: expected a 6-digit hex colour or \"\", found {entry.GetRawText()}.");
            i++;
        }
        return [.. result];
    }

    private static NounsPart[] ReadBackgrounds(JsonElement root, string source, IReadOnlyList<string>? fallback)
    {
        var hexes = new List<string>();
        if (root.TryGetProperty("bgcolors", out var bg))
        {
            if (bg.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"Nouns image data '{source}': 'bgcolors' must be an array of hex colours.");
            foreach (var e in bg.EnumerateArray())
                hexes.Add(e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText());
        }
        else if (fallback is not null)
        {
            hexes.AddRange(fallback);
        }
        else
        {
            throw new InvalidDataException(
                $"Nouns image data '{source}' has no 'bgcolors' array; pass the background colours (for example \"d5d7e1\") explicitly.");
        }
        if (hexes.Count == 0)
            throw new InvalidDataException($"Nouns image data '{source}': at least one background colour is required.");

        var parts = new NounsPart[hexes.Count];
        var allPixels = Enumerable.Range(0, NounsArt.PixelCount).ToArray();
        for (int i = 0; i < hexes.Count; i++)
        {
            string hex = hexes[i].Trim().TrimStart('#').ToLowerInvariant();
            if (!NounsArt.TryParseHexColor(hex, out byte r, out byte g, out byte b))
                throw new InvalidDataException($"Nouns image data '{source}', bgcolors[{i}]: expected a 6-digit hex colour, found '{hexes[i]}'.");
            var rgb = new byte[NounsArt.PixelCount * 3];
            for (int p = 0; p < NounsArt.PixelCount; p++)
            {
                rgb[3 * p] = r;
                rgb[3 * p + 1] = g;
                rgb[3 * p + 2] = b;
            }
            parts[i] = new NounsPart(NounsLayer.Background, i, hex, NounsArt.BackgroundTraitValue(hex), allPixels, rgb);
        }
        return parts;
    }

    private static (string FileName, string Data, string Where) ReadEntry(JsonElement entry, string source, string where)
    {
        if (entry.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"Nouns image data '{source}', {where}: expected an object with 'filename' and 'data'.");
        if (!entry.TryGetProperty("filename", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
            throw new InvalidDataException($"Nouns image data '{source}', {where}: missing the string field 'filename'.");
        if (!entry.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"Nouns image data '{source}', {where} ('{name.GetString()}'): missing the string field 'data'.");
        return (name.GetString()!, data.GetString()!, where);
    }

    private static NounsPart[] DecodeLayer(
        NounsLayer layer, string prefix, List<(string FileName, string Data, string Where)> entries,
        (byte R, byte G, byte B)?[] palette, string source)
    {
        var parts = new NounsPart[entries.Count];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var (fileName, data, where) = entries[i];
            string value = TraitValue(fileName, prefix);
            if (!values.TryAdd(value, fileName))
                throw new InvalidDataException(
                    $"Nouns image data '{source}', {where}: '{fileName}' has the same trait value '{value}' as '{values[value]}'; trait values must be unique within a layer.");
            var (pixels, rgb) = DecodeRle(data, palette, $"Nouns image data '{source}', {where} ('{fileName}')");
            parts[i] = new NounsPart(layer, i, fileName, value, pixels, rgb);
        }
        return parts;
    }

    /// <summary>
    /// The trait value of a part: the file name without the layer's own prefix, dashes as spaces. A few accessories are
    /// named after body patterns (<c>body-bege</c>); those keep their whole name (<c>body bege</c>), which also tells a
    /// caption reader that they are accessories shaped like a body.
    /// </summary>
    internal static string TraitValue(string fileName, string prefix)
    {
        string stem = fileName.StartsWith(prefix, StringComparison.Ordinal) && fileName.Length > prefix.Length
            ? fileName[prefix.Length..]
            : fileName;
        return stem.Replace('-', ' ');
    }

    internal static (int[] Pixels, byte[] Rgb) DecodeRle(string data, (byte R, byte G, byte B)?[] palette, string where)
    {
        byte[] bytes;
        string hex = data.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? data[2..] : data;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{where}: 'data' must be a hex string (0x…), found '{Shorten(data)}'.");
        }
        if (bytes.Length < 5 || (bytes.Length - 5) % 2 != 0)
            throw new InvalidDataException(
                $"{where}: 'data' must hold 5 header bytes (palette, top, right, bottom, left) and (length, colour) pairs; found {bytes.Length} bytes.");
        int top = bytes[1], right = bytes[2], bottom = bytes[3], left = bytes[4];
        int runs = (bytes.Length - 5) / 2;
        if (runs == 0 && top == 0 && right == 0 && bottom == 0 && left == 0)
            return ([], []); // the empty part (accessory-none)
        if (right > NounsArt.GridSize || bottom >= NounsArt.GridSize || left >= right || top > bottom)
            throw new InvalidDataException(
                $"{where}: bounding box top {top}, right {right} (exclusive), bottom {bottom} (inclusive), left {left} does not fit the 32×32 grid.");

        int width = right - left;
        int boxCells = width * (bottom - top + 1);
        var pixels = new List<int>();
        var rgb = new List<byte>();
        int cell = 0;
        for (int r = 0; r < runs; r++)
        {
            int length = bytes[5 + 2 * r];
            int colour = bytes[6 + 2 * r];
            if (colour >= palette.Length)
                throw new InvalidDataException(
                    $"{where}: run {r} uses palette index {colour}, but the palette has {palette.Length} entries.");
            if (cell + length > boxCells)
                throw new InvalidDataException(
                    $"{where}: the runs cover more than the {width}×{bottom - top + 1} bounding box ({boxCells} cells) at run {r}.");
            var c = palette[colour];
            if (c is { } rgbColour)
            {
                for (int k = 0; k < length; k++)
                {
                    int at = cell + k;
                    int x = left + at % width, y = top + at / width;
                    pixels.Add(y * NounsArt.GridSize + x);
                    rgb.Add(rgbColour.R);
                    rgb.Add(rgbColour.G);
                    rgb.Add(rgbColour.B);
                }
            }
            cell += length;
        }
        if (cell != boxCells)
            throw new InvalidDataException(
                $"{where}: the runs cover {cell} cells but the {width}×{bottom - top + 1} bounding box has {boxCells}.");
        return ([.. pixels], [.. rgb]);
    }

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..24] + "…";
}
