using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Collections.Formats;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Writes a collection in the layout HashLips and <c>diffnft collection</c> use, which <see cref="NftCollectionLoader"/>
/// reads back unchanged:
/// <c>DIR/metadata/{id}.json</c> (OpenSea metadata per token: <c>name</c>, <c>description</c>, <c>image</c>,
/// <c>attributes</c>), <c>DIR/_metadata.json</c> (all tokens, each with a <c>token_id</c>), <c>DIR/images/{id}.png</c>
/// and, when tokens have captions, <c>DIR/captions.csv</c> (<c>token_id,caption</c>; OpenSea has no field for captions).
/// Also writes long and wide CSV tables. Every file is written atomically (a temporary file renamed over the target).
/// </summary>
public static partial class NftCollectionWriter
{
    /// <summary>Writes a collection folder. Images and per-token files are written in parallel.</summary>
    /// <param name="collection">The collection. Token ids must be canonical non-negative integers ("7", not "007"),
    /// since they become file names that are read back as ids.</param>
    /// <param name="directory">The folder to write (created when missing).</param>
    /// <param name="options">Write options; null for the defaults.</param>
    /// <param name="progress">Receives the number of tokens whose image and metadata file are written so far. It is
    /// called from worker threads, so the counts may arrive out of order.</param>
    /// <param name="cancellationToken">Stops between tokens (throwing <see cref="OperationCanceledException"/>); the
    /// summary <c>_metadata.json</c> is written last, so a stopped write leaves none.</param>
    /// <exception cref="ArgumentException">A token id is not a canonical integer.</exception>
    /// <exception cref="InvalidDataException">A number or boolean trait's value is not a JSON number or boolean (nothing is written then).</exception>
    /// <exception cref="IOException">The folder already holds a collection and <see cref="NftCollectionWriteOptions.ReplaceExisting"/> is false.</exception>
    public static void Write(NftCollection collection, string directory, NftCollectionWriteOptions? options = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new NftCollectionWriteOptions();
        ArgumentNullException.ThrowIfNull(options.ImageUriFormat, nameof(options.ImageUriFormat));
        CheckIds(collection);

        string root = Path.GetFullPath(directory);
        string metadataDir = Path.Combine(root, "metadata");
        string imagesDir = Path.Combine(root, "images");
        string summaryPath = Path.Combine(root, "_metadata.json");
        string captionsPath = Path.Combine(root, NftCaptions.CaptionsFileName);
        if (!options.ReplaceExisting && (File.Exists(summaryPath) || TokenFilesFormat.HasTokenFiles(metadataDir)))
            throw new IOException($"'{root}' already holds a collection; set {nameof(NftCollectionWriteOptions.ReplaceExisting)} to write over it.");

        var tokens = collection.Tokens;
        bool writingImages = options.WriteImages && tokens.Any(t => t.Image is not null);
        var jsonOptions = OpenSeaJsonWriter.Options(options.Indented);
        // The summary is made first, in token order, because making it checks every value: a bad one fails with the same
        // message every time, before any file is touched. It is written last: a reader that finds it finds everything it lists.
        byte[] summary = SummaryJson(tokens, t => ImageUri(t, options, writingImages), jsonOptions);
        string? captions = CaptionsCsvFormat.Write(collection);

        Directory.CreateDirectory(root);
        if (writingImages) Directory.CreateDirectory(imagesDir);
        if (options.WriteTokenFiles) Directory.CreateDirectory(metadataDir);
        int done = 0;
        // PNG encoding is CPU-bound: more workers than cores only contend.
        ParallelLoop.For(tokens.Count, i =>
        {
            var token = tokens[i];
            if (writingImages && token.Image is not null)
                AtomicFile.WriteAllBytes(Path.Combine(imagesDir, token.TokenId + ".png"), ImageSupport.Require("Writing token images").EncodePng(token.Image));
            if (options.WriteTokenFiles)
                AtomicFile.Write(Path.Combine(metadataDir, token.TokenId + ".json"), stream =>
                {
                    using var w = new Utf8JsonWriter(stream, jsonOptions);
                    OpenSeaJsonWriter.WriteToken(w, token, ImageUri(token, options, writingImages), withTokenId: false);
                });
            progress?.Report(Interlocked.Increment(ref done));
        }, cancellationToken, Environment.ProcessorCount);

        if (captions is not null) AtomicFile.WriteAllText(captionsPath, captions);
        AtomicFile.WriteAllBytes(summaryPath, summary);
        if (options.ReplaceExisting)
        {
            var ids = tokens.Select(t => t.TokenId).ToHashSet(StringComparer.Ordinal);
            DeleteStale(metadataDir, options.WriteTokenFiles ? ids : [], ".json", TokenFileName());
            DeleteStale(imagesDir, writingImages ? tokens.Where(t => t.Image is not null).Select(t => t.TokenId).ToHashSet(StringComparer.Ordinal) : [],
                ".png", ImageFileName());
            // Old captions would name tokens this collection may lack, which the loader rejects.
            if (captions is null) File.Delete(captionsPath);
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

    private static byte[] SummaryJson(IReadOnlyList<NftToken> tokens, Func<NftToken, string?> imageUri, JsonWriterOptions jsonOptions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, jsonOptions))
        {
            w.WriteStartArray();
            foreach (var token in tokens)
                OpenSeaJsonWriter.WriteToken(w, token, imageUri(token), withTokenId: true);
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
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
