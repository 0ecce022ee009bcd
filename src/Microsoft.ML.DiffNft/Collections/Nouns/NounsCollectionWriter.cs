using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Writes a rendered collection in the layout HashLips users expect, with OpenSea metadata:
/// <c>images/{id}.png</c>, <c>metadata/{id}.json</c> (<c>name</c>, <c>description</c>, <c>image</c>, <c>attributes</c>),
/// <c>_metadata.json</c> (the same objects in one array, each with a <c>token_id</c>) and <c>captions.csv</c>
/// (<c>token_id,caption</c>). Captions are kept out of the metadata: OpenSea has no field for them.
/// Every file is written atomically.
/// </summary>
public static class NounsCollectionWriter
{
    private static readonly JsonWriterOptions s_json = new()
    {
        Indented = true,
        // Trait values are plain text; keep "+" and non-ASCII readable instead of \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the collection under <paramref name="directory"/> (created if needed).</summary>
    /// <param name="collection">Tokens with images (<see cref="NftToken.Image"/>) and attributes.</param>
    /// <param name="directory">The output folder.</param>
    /// <param name="progress">Receives the number of tokens written so far (from worker threads).</param>
    /// <param name="cancellationToken">Stops between tokens.</param>
    public static void Write(NftCollection collection, string directory, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        foreach (var token in collection.Tokens)
        {
            CheckFileName(token.TokenId);
            if (token.Image is null)
                throw new ArgumentException($"Token '{token.TokenId}' has no image; render the collection before writing it.", nameof(collection));
        }

        string images = Path.Combine(directory, "images");
        string metadata = Path.Combine(directory, "metadata");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(metadata);

        int done = 0;
        var tokens = collection.Tokens;
        NounsParallel.For(tokens.Count, i =>
        {
            var token = tokens[i];
            PngCodec.Save(token.Image!, Path.Combine(images, token.TokenId + ".png"));
            AtomicFile.WriteAllBytes(Path.Combine(metadata, token.TokenId + ".json"), TokenJson(token, withId: false));
            int n = Interlocked.Increment(ref done);
            progress?.Report(n);
        }, cancellationToken);

        AtomicFile.Write(Path.Combine(directory, "_metadata.json"), stream =>
        {
            using var writer = new Utf8JsonWriter(stream, s_json);
            writer.WriteStartArray();
            foreach (var token in tokens) WriteToken(writer, token, withId: true);
            writer.WriteEndArray();
        });

        var csv = new StringBuilder("token_id,caption\n");
        foreach (var token in tokens)
            csv.Append(CsvField(token.TokenId)).Append(',').Append(CsvField(token.Caption ?? "")).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(directory, "captions.csv"), csv.ToString());
    }

    /// <summary>The OpenSea metadata JSON of one token (UTF-8), as written to <c>metadata/{id}.json</c>.</summary>
    public static byte[] TokenJson(NftToken token, bool withId = false)
    {
        ArgumentNullException.ThrowIfNull(token);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_json))
            WriteToken(writer, token, withId);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Quotes a CSV field when it holds a comma, quote, or line break (RFC 4180).</summary>
    public static string CsvField(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
    }

    private static void WriteToken(Utf8JsonWriter writer, NftToken token, bool withId)
    {
        writer.WriteStartObject();
        if (withId) writer.WriteString("token_id", token.TokenId);
        writer.WriteString("name", token.Name ?? token.TokenId);
        if (token.Description is not null) writer.WriteString("description", token.Description);
        writer.WriteString("image", token.ImageUri ?? $"images/{token.TokenId}.png");
        writer.WriteStartArray("attributes");
        foreach (var a in token.Attributes)
        {
            writer.WriteStartObject();
            if (a.DisplayType is not null) writer.WriteString("display_type", a.DisplayType);
            writer.WriteString("trait_type", a.TraitType);
            switch (a.Kind)
            {
                case NftValueKind.Number when IsJsonNumber(a.Value):
                    writer.WritePropertyName("value");
                    writer.WriteRawValue(a.Value);
                    break;
                case NftValueKind.Boolean when bool.TryParse(a.Value, out bool b):
                    writer.WriteBoolean("value", b);
                    break;
                default:
                    writer.WriteString("value", a.Value);
                    break;
            }
            if (a.MaxValue is not null && IsJsonNumber(a.MaxValue))
            {
                writer.WritePropertyName("max_value");
                writer.WriteRawValue(a.MaxValue);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static bool IsJsonNumber(string text) => s_jsonNumber.IsMatch(text);

    private static readonly Regex s_jsonNumber = new(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant);

    private static void CheckFileName(string tokenId)
    {
        if (tokenId is "." or ".." || tokenId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || tokenId.Contains('/') || tokenId.Contains('\\'))
            throw new ArgumentException($"Token id '{tokenId}' cannot be used as a file name (images/{{id}}.png).");
    }
}
