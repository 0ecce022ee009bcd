using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>
/// What a trial folder keeps besides <c>metrics.json</c> so that a resumed sweep can rebuild the trial's result and the
/// report: <c>trial.json</c> (weights, iterations, time, per-image rarity scores and the rare threshold).
/// </summary>
internal sealed record TrialState(SweepTrial Trial, int Iterations, double FineTuneSeconds, double? RareThreshold, IReadOnlyList<double>? RarityScores)
{
    public void Write(string path)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("id", Trial.Id);
            w.WriteNumber("rarity_weight", Trial.RarityWeight);
            w.WriteNumber("fidelity_weight", Trial.FidelityWeight);
            w.WriteNumber("kl_weight", Trial.KlWeight);
            w.WriteNumber("repeat", Trial.Repeat);
            w.WriteNumber("iterations", Iterations);
            w.WriteNumber("fine_tune_seconds", FineTuneSeconds);
            if (RareThreshold is { } t && double.IsFinite(t)) w.WriteNumber("rare_threshold", t);
            else w.WriteNull("rare_threshold");
            ScoreList.Write(w, "rarity_scores", RarityScores);
            w.WriteEndObject();
        }
        AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(stream.ToArray()) + "\n");
    }

    /// <summary>Reads <c>trial.json</c>; the weights must be the expected trial's.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or belongs to another trial; the message names the file and field.</exception>
    public static TrialState Read(string path, SweepTrial expected)
    {
        if (!File.Exists(path))
            throw new InvalidDataException($"Trial folder '{Path.GetDirectoryName(path)}' has metrics.json but no trial.json; delete the folder to rerun the trial.");
        using var doc = SweepJson.Parse(path);
        var root = doc.RootElement;
        string id = SweepJson.String(root, "id", path);
        if (id != expected.Id)
            throw new InvalidDataException($"'{path}': field 'id' is '{id}', expected '{expected.Id}' (the folder belongs to another trial).");
        return new TrialState(expected, (int)SweepJson.Number(root, "iterations", path), SweepJson.Number(root, "fine_tune_seconds", path),
            SweepJson.OptionalNumber(root, "rare_threshold", path), SweepJson.OptionalNumbers(root, "rarity_scores", path));
    }
}

/// <summary>Small JSON helpers of the sweep's files, with errors that name the file and the field.</summary>
internal static class SweepJson
{
    public static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}", ex);
        }
    }

    public static string String(JsonElement root, string key, string path) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var e) && e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new InvalidDataException($"'{path}': expected a string field '{key}'.");

    public static double Number(JsonElement root, string key, string path) =>
        OptionalNumber(root, key, path) ?? throw new InvalidDataException($"'{path}': expected a number field '{key}'.");

    public static double? OptionalNumber(JsonElement root, string key, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"'{path}': field '{key}' must be a number, found {e.ValueKind}.");
        return e.GetDouble();
    }

    public static double[]? OptionalNumbers(JsonElement root, string key, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"'{path}': field '{key}' must be an array of numbers, found {e.ValueKind}.");
        var list = new double[e.GetArrayLength()];
        int i = 0;
        foreach (var x in e.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"'{path}': element {i} of '{key}' must be a number, found {x.ValueKind}.");
            list[i++] = x.GetDouble();
        }
        return list;
    }
}

/// <summary>Writes a list of numbers (or null) as a JSON array.</summary>
internal static class ScoreList
{
    public static void Write(Utf8JsonWriter w, string key, IReadOnlyList<double>? values)
    {
        if (values is null)
        {
            w.WriteNull(key);
            return;
        }
        w.WriteStartArray(key);
        foreach (double v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }
}
