using System.Globalization;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// Typed reads from a diffusers <c>config.json</c> object with errors that name the key and the file. Keys starting with
/// "_" (<c>_class_name</c>, <c>_diffusers_version</c>, …) are metadata; keys never read are collected in
/// <see cref="UnreadKeys"/> (diffusers ignores unknown keys too, so they are reported, not rejected).
/// </summary>
internal sealed class DiffusersConfigJson
{
    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="json"/>.</summary>
    /// <param name="json">The text of a config.json.</param>
    /// <param name="source">The file, for messages.</param>
    /// <exception cref="InvalidDataException">Not JSON, or not an object.</exception>
    public DiffusersConfigJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        Source = source;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: a diffusers config must be a JSON object, found {doc.RootElement.ValueKind}.");
            foreach (var p in doc.RootElement.EnumerateObject())
                if (!p.Name.StartsWith('_')) _values[p.Name] = p.Value.Clone();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>The file the config came from.</summary>
    public string Source { get; }

    /// <summary>Keys present in the file that nothing read (sorted).</summary>
    public IReadOnlyList<string> UnreadKeys => _values.Keys.Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToArray();

    private bool TryGet(string key, out JsonElement value)
    {
        _read.Add(key);
        return _values.TryGetValue(key, out value);
    }

    private InvalidDataException Bad(string key, JsonElement value, string expected)
        => new($"{Source}: '{key}' must be {expected}, got {value.GetRawText()}.");

    /// <summary>An integer; <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback)
        => NullableInt(key, fallback) ?? throw new InvalidDataException($"{Source}: '{key}' must be an integer, got null.");

    /// <summary>An integer or null; <paramref name="fallback"/> when absent.</summary>
    public int? NullableInt(string key, int? fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Null) return null;
        return ReadInt(key, v);
    }

    private int ReadInt(string key, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt32(out int i)) return i;
            // Python writes some integers as 1.0; accept whole numbers only.
            if (v.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue) return (int)d;
        }
        throw Bad(key, v, "an integer");
    }

    /// <summary>A number; <paramref name="fallback"/> when absent.</summary>
    public double Double(string key, double fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d)) return d;
        throw Bad(key, v, "a finite number");
    }

    /// <summary>A boolean; <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(key, v, "true or false"),
        };
    }

    /// <summary>A string or null; <paramref name="fallback"/> when absent.</summary>
    public string? String(string key, string? fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null => null,
            _ => throw Bad(key, v, "a string"),
        };
    }

    /// <summary>A list of strings; <paramref name="fallback"/> when absent.</summary>
    public string[] Strings(string key, string[] fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, v, "a list of strings");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(key, v, "a list of strings")).ToArray();
    }

    /// <summary>A list of integers; <paramref name="fallback"/> when absent.</summary>
    public int[] Ints(string key, int[] fallback)
    {
        if (!TryGet(key, out var v)) return fallback;
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, v, "a list of integers");
        return v.EnumerateArray().Select(e => ReadInt(key, e)).ToArray();
    }

    /// <summary>An integer or a list of integers (one per block); <paramref name="fallback"/> when absent or null.</summary>
    public PerBlock? PerBlock(string key, PerBlock? fallback)
    {
        if (!TryGet(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind == JsonValueKind.Array)
            return Modules.PerBlock.List(v.EnumerateArray().Select(e => ReadInt(key, e)).ToArray());
        return Modules.PerBlock.Of(ReadInt(key, v));
    }

    /// <summary>
    /// For an architectural option these modules do not implement: passes when the key is absent or has diffusers'
    /// default value (<paramref name="isDefault"/>), otherwise throws naming the key, the value and the file.
    /// </summary>
    /// <exception cref="NotSupportedException">The option is set to something other than its default.</exception>
    public void RequireDefault(string key, string defaultText, Func<JsonElement, bool> isDefault)
    {
        if (!TryGet(key, out var v) || isDefault(v)) return;
        throw new NotSupportedException(
            $"{Source}: '{key}' = {v.GetRawText()} is not supported; these Stable Diffusion modules implement only {defaultText} (the diffusers default, as in SD 1.x/2.x).");
    }

    /// <summary><see cref="RequireDefault"/> for options whose default is null.</summary>
    public void RequireNull(string key) => RequireDefault(key, "null", v => v.ValueKind == JsonValueKind.Null);

    /// <summary><see cref="RequireDefault"/> for options whose default is <paramref name="value"/>.</summary>
    public void RequireBool(string key, bool value)
        => RequireDefault(key, value ? "true" : "false", v => v.ValueKind == (value ? JsonValueKind.True : JsonValueKind.False));

    /// <summary><see cref="RequireDefault"/> for numeric options whose default is <paramref name="value"/>.</summary>
    public void RequireNumber(string key, double value)
        => RequireDefault(key, value.ToString(CultureInfo.InvariantCulture), v => v.ValueKind == JsonValueKind.Number && v.GetDouble() == value);

    /// <summary><see cref="RequireDefault"/> for string options whose default is <paramref name="value"/>.</summary>
    public void RequireString(string key, string value)
        => RequireDefault(key, $"\"{value}\"", v => v.ValueKind == JsonValueKind.String && v.GetString() == value);
}
