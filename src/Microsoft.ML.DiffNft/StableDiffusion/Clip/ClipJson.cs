using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// Typed reads from the JSON objects of a diffusers folder's CLIP files (<c>text_encoder/config.json</c>,
/// <c>tokenizer/tokenizer_config.json</c>): a missing key or a JSON <c>null</c> gives the default, a value of the wrong type
/// an error that names the file, the key and what was found.
/// </summary>
internal static class ClipJson
{
    /// <summary>Parses <paramref name="json"/> as a JSON object; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or a root that is not an object.</exception>
    public static JsonDocument ParseObject(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{source}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = doc.RootElement.ValueKind;
            doc.Dispose();
            throw new InvalidDataException($"'{source}' must hold a JSON object, found {kind}.");
        }
        return doc;
    }

    /// <summary>An integer value, or <paramref name="fallback"/> when the key is absent or null.</summary>
    public static int Int(JsonElement root, string key, int fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v))
            throw new InvalidDataException($"'{source}': '{key}' must be a whole number, found {e.ValueKind} {e.GetRawText()}.");
        return v;
    }

    /// <summary>
    /// An integer that may be very large (tokenizer configs write "no limit" as 1e30 in <c>model_max_length</c>), clamped to
    /// <see cref="long.MaxValue"/>; <paramref name="fallback"/> when absent or null.
    /// </summary>
    public static long LargeInt(JsonElement root, string key, long fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v)) return v;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d) && d == Math.Floor(d))
            return d >= long.MaxValue ? long.MaxValue : d <= long.MinValue ? long.MinValue : (long)d;
        throw new InvalidDataException($"'{source}': '{key}' must be a whole number, found {e.ValueKind} {e.GetRawText()}.");
    }

    /// <summary>A number, or <paramref name="fallback"/> when the key is absent or null.</summary>
    public static double Double(JsonElement root, string key, double fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v))
            throw new InvalidDataException($"'{source}': '{key}' must be a number, found {e.ValueKind} {e.GetRawText()}.");
        return v;
    }

    /// <summary>A boolean, or <paramref name="fallback"/> when the key is absent or null.</summary>
    public static bool Bool(JsonElement root, string key, bool fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"'{source}': '{key}' must be true or false, found {e.ValueKind} {e.GetRawText()}."),
        };
    }

    /// <summary>A string, or <paramref name="fallback"/> when the key is absent or null.</summary>
    public static string? String(JsonElement root, string key, string? fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        if (e.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"'{source}': '{key}' must be a string, found {e.ValueKind} {e.GetRawText()}.");
        return e.GetString();
    }

    /// <summary>
    /// A token given either as a string or as an added-token object <c>{"content": "…", …}</c> (transformers writes both
    /// forms in <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>); <paramref name="fallback"/> when absent or null.
    /// </summary>
    public static string? Token(JsonElement root, string key, string? fallback, string source)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return fallback;
        if (e.ValueKind == JsonValueKind.String) return e.GetString();
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            return c.GetString();
        throw new InvalidDataException(
            $"'{source}': '{key}' must be a token string or an object with a string \"content\", found {e.ValueKind} {e.GetRawText()}.");
    }
}
