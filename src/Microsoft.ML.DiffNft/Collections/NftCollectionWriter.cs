using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Collections.Formats;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Writes a collection in the layout HashLips and <c>diffnft collection</c> use, which <see cref="NftCollectionLoader"/>
/// reads back unchanged:
/// <c>DIR/metadata/{id}.json</c> (OpenSea metadata per token), <c>DIR/_metadata.json</c> (all tokens, each with a
/// <c>token_id</c>) and <c>DIR/images/{id}.png</c>. Also writes long and wide CSV tables. Every file is written
/// atomically (a temporary file renamed over the target).
/// </summary>
public static partial class NftCollectionWriter
{
    /// <summary>Writes a collection folder.</summary>
    /// <param name="collection">The collection. Token ids must be canonical non-negative integers ("7", not "007"),
    /// since they become file names that are read back as ids.</param>
    /// <param name="directory">The folder to write (created when missing).</param>
    /// <param name="options">Write options; null for the defaults.</param>
    /// <exception cref="ArgumentException">A token id is not a canonical integer.</exception>
    /// <exception cref="IOException">The folder already holds a collection and <see cref="NftCollectionWriteOptions.ReplaceExisting"/> is false.</exception>
    public static void Write(NftCollection collection, string directory, NftCollectionWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new NftCollectionWriteOptions();
        ArgumentNullException.ThrowIfNull(options.ImageUriFormat, nameof(options.ImageUriFormat));
        CheckIds(collection);

        string root = Path.GetFullPath(directory);
        string metadataDir = Path.Combine(root, "metadata");
        string imagesDir = Path.Combine(root, "images");
        string summary = Path.Combine(root, "_metadata.json");
        if (!options.ReplaceExisting && (File.Exists(summary) || TokenFilesFormat.HasTokenFiles(metadataDir)))
            throw new IOException($"'{root}' already holds a collection; set {nameof(NftCollectionWriteOptions.ReplaceExisting)} to write over it.");
        Directory.CreateDirectory(root);

        var withImages = options.WriteImages ? collection.Tokens.Where(t => t.Image is not null).ToList() : [];
        // Images first and the summary last: a reader that finds _metadata.json finds everything it lists.
        if (withImages.Count > 0)
        {
            Directory.CreateDirectory(imagesDir);
            try
            {
                Parallel.ForEach(withImages, t => PngCodec.Save(t.Image!, Path.Combine(imagesDir, t.TokenId + ".png")));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        var jsonOptions = OpenSeaJsonWriter.Options(options.Indented);
        if (options.WriteTokenFiles)
        {
            Directory.CreateDirectory(metadataDir);
            foreach (var token in collection.Tokens)
                AtomicFile.Write(Path.Combine(metadataDir, token.TokenId + ".json"), stream =>
                {
                    using var w = new Utf8JsonWriter(stream, jsonOptions);
                    OpenSeaJsonWriter.WriteToken(w, token, ImageUri(token, options, withImages.Count > 0), withTokenId: false);
                });
        }
        AtomicFile.Write(summary, stream =>
        {
            using var w = new Utf8JsonWriter(stream, jsonOptions);
            w.WriteStartArray();
            foreach (var token in collection.Tokens)
                OpenSeaJsonWriter.WriteToken(w, token, ImageUri(token, options, withImages.Count > 0), withTokenId: true);
            w.WriteEndArray();
        });
        if (options.ReplaceExisting)
        {
            var ids = collection.Tokens.Select(t => t.TokenId).ToHashSet(StringComparer.Ordinal);
            DeleteStale(metadataDir, options.WriteTokenFiles ? ids : [], ".json", TokenFileName());
            DeleteStale(imagesDir, withImages.Select(t => t.TokenId).ToHashSet(StringComparer.Ordinal), ".png", ImageFileName());
        }
    }

    /// <summary>Writes a long CSV, one row per attribute: <c>token_id,trait_type,value,value_type[,display_type][,max_value]</c>.</summary>
    /// <remarks>Attributes with an empty value are left out (an empty cell reads back as an absent trait).</remarks>
    public static void WriteLongCsv(NftCollection collection, string path)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, LongCsvFormat.Write(collection));
    }

    /// <summary>Writes a wide CSV, one row per token: <c>token_id,&lt;trait 1&gt;,…</c>, an empty cell where a token lacks a trait.</summary>
    /// <remarks>CSV cells carry no kind: numeric and boolean traits read back as strings with the same text, and
    /// empty values read back as absent.</remarks>
    public static void WriteWideCsv(NftCollection collection, string path)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, WideCsvFormat.Write(collection));
    }

    private static void CheckIds(NftCollection collection)
    {
        foreach (var t in collection.Tokens)
            if (!TokenIds.IsCanonical(t.TokenId))
                throw new ArgumentException(
                    $"Token id '{t.TokenId}' cannot be written: expected a non-negative integer without leading zeros, because it becomes a file name that is read back as the id.",
                    nameof(collection));
    }

    private static string? ImageUri(NftToken token, NftCollectionWriteOptions options, bool writingImages) =>
        token.ImageUri ?? (writingImages && token.Image is not null ? options.ImageUriFormat.Replace("{id}", token.TokenId, StringComparison.Ordinal) : null);

    // Deletes files a loader would take for a token (by the same name rules) unless they are exactly the ones just written.
    private static void DeleteStale(string dir, HashSet<string> written, string extension, Regex tokenFile)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var file in Directory.EnumerateFiles(dir).ToList())
        {
            string fileName = Path.GetFileName(file);
            var m = tokenFile.Match(fileName);
            if (!m.Success) continue;
            string id = m.Groups[1].Value;
            if (written.Contains(id) && string.Equals(fileName, id + extension, StringComparison.Ordinal)) continue;
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^(\d+)(\.json)?$", RegexOptions.IgnoreCase)]
    private static partial Regex TokenFileName();

    [GeneratedRegex(@"^(\d+)\.(png|jpe?g|gif|bmp|webp)$", RegexOptions.IgnoreCase)]
    private static partial Regex ImageFileName();
}
