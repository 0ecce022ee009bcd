using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>
/// Reads the small JSON files of a diffusers folder (model_index.json, config.json, scheduler_config.json, shard
/// indexes) so that every mistake a user can make — a missing file, broken JSON, a value of the wrong kind — is an
/// error naming the file, and the line or the key.
/// </summary>
internal static class JsonFile
{
    /// <summary>The largest JSON file read (a shard index of a very large model is a few megabytes).</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>
    /// Reads and parses <paramref name="path"/>; its root must be a JSON object. The caller disposes the document.
    /// </summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="what">What the file is, for the message when it is missing (as in "the pipeline's model index").</param>
    public static JsonDocument ReadObject(string path, string what)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"'{full}' does not exist ({what}).", full);
        long length = new FileInfo(full).Length;
        if (length > MaxBytes)
            throw new InvalidDataException($"'{full}' is {length:N0} bytes; {what} is a small JSON file (at most {MaxBytes:N0} bytes).");
        var doc = Parse(File.ReadAllBytes(full), full);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = doc.RootElement.ValueKind;
            doc.Dispose();
            throw new InvalidDataException($"'{full}': expected a JSON object at the top level, found {Describe(kind)}.");
        }
        return doc;
    }

    /// <summary>Parses JSON text; an error names <paramref name="sourceName"/>, the line, the byte in it and the JSON path.</summary>
    /// <param name="utf8">The JSON bytes.</param>
    /// <param name="sourceName">The file, for messages.</param>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8, string sourceName)
    {
        try
        {
            // Strict JSON, as diffusers writes it: a comment or a trailing comma can only come from a hand edit, and
            // naming its line is more useful than guessing what was meant.
            return JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            string at = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            string path = string.IsNullOrEmpty(ex.Path) ? "" : $" (JSON path {ex.Path})";
            throw new InvalidDataException($"'{sourceName}' is not valid JSON{at}{path}: {FirstSentence(ex.Message)}", ex);
        }
    }

    /// <summary>A string property, its default when absent or null, or an error naming the file, the key and the value.</summary>
    public static string? GetString(JsonElement obj, string key, string file, string? fallback = null) =>
        Get(obj, key, file, fallback, JsonValueKind.String, "a string", e => e.GetString());

    /// <summary>A boolean property, its default when absent or null, or an error naming the file, the key and the value.</summary>
    public static bool GetBool(JsonElement obj, string key, string file, bool fallback)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongKind(file, key, v, "true or false"),
        };
    }

    /// <summary>An integer property, its default when absent or null, or an error naming the file, the key and the value.</summary>
    public static int GetInt(JsonElement obj, string key, string file, int fallback) =>
        Get(obj, key, file, fallback, JsonValueKind.Number, "an integer", e => e.TryGetInt32(out int i) ? i : throw WrongKind(file, key, e, "an integer"));

    /// <summary>A number property, its default when absent or null, or an error naming the file, the key and the value.</summary>
    public static double GetDouble(JsonElement obj, string key, string file, double fallback) =>
        Get(obj, key, file, fallback, JsonValueKind.Number, "a number", e => e.GetDouble());

    /// <summary>The error for a value of the wrong kind: names the file, the key, what was found and what was expected.</summary>
    public static InvalidDataException WrongKind(string file, string key, JsonElement value, string expected) =>
        new($"'{file}': '{key}' must be {expected}, found {Show(value)}.");

    /// <summary>A short rendering of a JSON value for messages.</summary>
    public static string Show(JsonElement value)
    {
        string raw = value.GetRawText();
        return raw.Length <= 60 ? raw : raw[..57] + "...";
    }

    private static T Get<T>(JsonElement obj, string key, string file, T fallback, JsonValueKind kind, string expected, Func<JsonElement, T> read)
    {
        if (!obj.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind != kind) throw WrongKind(file, key, v, expected);
        return read(v);
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: … | LineNumber: … | BytePositionInLine: …", which the message already says.
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
