using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// Saves and loads a fitted <see cref="TraitRarityTransformer"/> as a versioned JSON model file: the frequency table of
/// every trait, the collection in rarity order (its distinct scores with token counts) and the output settings.
/// </summary>
/// <remarks>
/// This is how trait rarity persists; <c>mlContext.Model.Save</c> cannot store a third-party transformer's state (see
/// <see cref="TraitRarityTransformer"/>). Files are written atomically (a temporary file renamed over the target) and
/// fully validated on load: a damaged or hand-edited file gives an <see cref="InvalidDataException"/> that names the file
/// and the field. A loaded transformer produces exactly the outputs of the one that was saved.
/// </remarks>
internal static class TraitRarityFile
{
    /// <summary>The value of the file's <c>format</c> field.</summary>
    public const string FormatName = "Microsoft.ML.DiffNft.TraitRarityModel";

    /// <summary>The file format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Writes <paramref name="transformer"/> to <paramref name="stream"/> as UTF-8 JSON; the stream stays open.</summary>
    public static void Save(TraitRarityTransformer transformer, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentNullException.ThrowIfNull(stream);
        var table = transformer.Table;
        // Not indented: the ranking lists one score per distinct score of the collection (a million tokens → ~20 MB).
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("format", FormatName);
        w.WriteNumber("version", FormatVersion);
        w.WriteString("method", table.Method.ToString());
        w.WriteNumber("tokenCount", table.TokenCount);
        w.WriteNumber("rareQuantile", table.RareQuantile);
        w.WriteNumber("entropy", table.Entropy);
        w.WriteStartObject("columns");
        w.WriteString("score", transformer.ScoreColumnName);
        w.WriteString("rank", transformer.RankColumnName);
        w.WriteString("isRare", transformer.IsRareColumnName);
        if (transformer.ProbabilitiesColumnName is null) w.WriteNull("probabilities");
        else w.WriteString("probabilities", transformer.ProbabilitiesColumnName);
        w.WriteBoolean("doublePrecision", transformer.UseDoublePrecision);
        w.WriteEndObject();

        w.WriteStartArray("traits");
        foreach (var t in table.Traits)
        {
            w.WriteStartObject();
            w.WriteString("column", t.ColumnName);
            w.WriteString("traitType", t.TraitType);
            w.WriteBoolean("numeric", t.IsNumeric);
            w.WriteNumber("nullCount", t.NullCount);
            w.WriteStartArray("values");
            foreach (string v in t.Values) w.WriteStringValue(v);
            w.WriteEndArray();
            w.WriteStartArray("counts");
            foreach (int c in t.Counts) w.WriteNumberValue(c);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        if (table.IncludesTraitCount)
        {
            w.WriteStartArray("traitCountCounts");
            foreach (int c in table.TraitCountCounts) w.WriteNumberValue(c);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("traitCountCounts");
        }

        // The fitted collection in rarity order, as distinct (unique count, score) pairs with how many tokens share each.
        var ranking = table.Ranking;
        w.WriteStartObject("ranking");
        w.WriteStartArray("uniqueCounts");
        foreach (int u in ranking.DistinctUnique) w.WriteNumberValue(u);
        w.WriteEndArray();
        w.WriteStartArray("scores");
        foreach (double key in ranking.DistinctKeys) w.WriteNumberValue(table.HigherIsRarer ? key : -key);
        w.WriteEndArray();
        w.WriteStartArray("tokenCounts");
        foreach (int c in ranking.DistinctCounts) w.WriteNumberValue(c);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Loads a file into an ML.NET environment (the one behind a catalog: <c>LoadTraitRarity</c>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid trait rarity model; the message names the field.</exception>
    internal static TraitRarityTransformer Load(IHostEnvironment env, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Trait rarity model file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Load(env, stream, path);
    }

    /// <summary>Loads into an ML.NET environment (the one behind a catalog), for saved pipelines.</summary>
    internal static TraitRarityTransformer Load(IHostEnvironment env, Stream stream, string sourceName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"Trait rarity model '{sourceName}' is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }
        using (document)
            return TraitRarityModelReader.Read(env, document.RootElement, sourceName);
    }
}
