namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Decides what to read for a path: which file or folder holds the metadata, in which format, and in which folders
/// to look for images and <c>captions.csv</c> (the metadata's folder, and its parent for a <c>metadata/</c> or
/// <c>json/</c> folder).
/// </summary>
internal sealed record CollectionSource(string MetadataPath, NftCollectionFormat Format, IReadOnlyList<string> ImageSearchDirectories, string DefaultName)
{
    /// <summary>
    /// The collection's <c>captions.csv</c> (as <see cref="NftCollectionWriter"/> writes it beside <c>metadata/</c>), or
    /// null when there is none. A single per-token file is one token of a collection, not the collection the captions
    /// describe, so it gets none.
    /// </summary>
    public string? FindCaptionsFile()
    {
        if (Format == NftCollectionFormat.TokenFiles && File.Exists(MetadataPath)) return null;
        foreach (var dir in ImageSearchDirectories)
        {
            string path = Path.Combine(dir, NftCaptions.CaptionsFileName);
            if (File.Exists(path) && !string.Equals(path, MetadataPath, StringComparison.Ordinal)) return path;
        }
        return null;
    }

    // Single files a collection folder commonly holds, most specific first.
    private static readonly string[] WellKnownFiles =
        ["_metadata.json", "metadata.jsonl", "metadata.ndjson", "metadata.json", "metadata.csv", "traits.json", "traits.jsonl", "traits.csv", "attributes.csv"];

    private static readonly HashSet<string> GenericStems = new(StringComparer.OrdinalIgnoreCase)
    {
        "_metadata", "metadata", "traits", "attributes", "json",
    };

    /// <summary>Resolves a user's path.</summary>
    public static CollectionSource Resolve(string path, NftCollectionFormat format)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) return ResolveDirectory(full, format);
        if (!File.Exists(full)) throw new FileNotFoundException($"Collection path '{full}' does not exist.", full);
        string dir = Path.GetDirectoryName(full)!;
        var resolved = format == NftCollectionFormat.Auto ? DetectFileFormat(full) : format;
        string stem = Path.GetFileNameWithoutExtension(full);
        return new CollectionSource(full, resolved, ImageDirsFor(dir), GenericStems.Contains(stem) ? Path.GetFileName(dir) : stem);
    }

    private static CollectionSource ResolveDirectory(string dir, NftCollectionFormat format)
    {
        string name = Path.GetFileName(dir);
        var images = ImageDirsFor(dir);
        if (format is NftCollectionFormat.Auto or NftCollectionFormat.TokenFiles)
        {
            // Per-token files are authoritative: a _metadata.json beside them is a derived summary (HashLips writes both).
            if (TokenFilesFormat.HasTokenFiles(dir)) return new(dir, NftCollectionFormat.TokenFiles, images, name);
            foreach (var sub in new[] { "metadata", "json" })
            {
                string candidate = Path.Combine(dir, sub);
                if (TokenFilesFormat.HasTokenFiles(candidate)) return new(candidate, NftCollectionFormat.TokenFiles, images, name);
            }
            if (format == NftCollectionFormat.TokenFiles && TokenFilesFormat.OtherJsonFiles(dir).Count > 0)
                return new(dir, NftCollectionFormat.TokenFiles, images, name); // ids from the files' fields
            if (format == NftCollectionFormat.TokenFiles)
                throw new InvalidDataException(
                    $"'{dir}' holds no per-token metadata files: expected '{{id}}.json' or '{{id}}' files in it or in its metadata/ folder.");
        }

        var files = Directory.EnumerateFiles(dir).ToList();
        foreach (var wellKnown in WellKnownFiles)
        {
            string? match = files.FirstOrDefault(f => string.Equals(Path.GetFileName(f), wellKnown, StringComparison.OrdinalIgnoreCase));
            if (match is null) continue;
            var detected = DetectFileFormat(match);
            if (format == NftCollectionFormat.Auto || Compatible(format, detected))
                return new(match, format == NftCollectionFormat.Auto ? detected : format, images, name);
        }

        var candidates = files.Where(f => IsDataFile(f) && !IsAtlasIndex(f) && !IsCaptionsFile(f))
            .Where(f => format == NftCollectionFormat.Auto || Compatible(format, DetectFileFormat(f)))
            .Order(StringComparer.Ordinal).ToList();
        if (candidates.Count == 1)
            return new(candidates[0], format == NftCollectionFormat.Auto ? DetectFileFormat(candidates[0]) : format, images, name);
        string what = format == NftCollectionFormat.Auto ? "collection metadata" : $"{format} metadata";
        throw new InvalidDataException(
            $"'{dir}' holds no {what} it can pick: expected per-token files ('{{id}}.json'), a metadata/ folder of them, _metadata.json, metadata.jsonl, " +
            $"or exactly one .json/.jsonl/.csv file; found {Describe(candidates)}. Pass the file's path instead" +
            (format == NftCollectionFormat.Auto ? $", or set Format = {nameof(NftCollectionFormat.TokenFiles)} for a folder of per-token files not named by id." : "."));
    }

    private static string Describe(List<string> files)
    {
        if (files.Count == 0) return "none";
        string shown = string.Join(", ", files.Take(8).Select(Path.GetFileName));
        return files.Count <= 8 ? shown : $"{shown} and {files.Count - 8} more";
    }

    private static bool Compatible(NftCollectionFormat wanted, NftCollectionFormat detected) =>
        wanted == detected || (wanted is NftCollectionFormat.LongCsv or NftCollectionFormat.WideCsv && detected is NftCollectionFormat.LongCsv or NftCollectionFormat.WideCsv);

    // Images live beside the metadata, or beside the folder when the metadata sits in metadata/ or json/ (HashLips: build/json + build/images).
    private static List<string> ImageDirsFor(string dir)
    {
        var dirs = new List<string> { dir };
        string leaf = Path.GetFileName(dir);
        if ((leaf.Equals("metadata", StringComparison.OrdinalIgnoreCase) || leaf.Equals("json", StringComparison.OrdinalIgnoreCase))
            && Path.GetDirectoryName(dir) is string parent)
            dirs.Add(parent);
        return dirs;
    }

    private static bool IsDataFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".json" or ".jsonl" or ".ndjson" or ".csv";

    private static bool IsCaptionsFile(string path) =>
        string.Equals(Path.GetFileName(path), NftCaptions.CaptionsFileName, StringComparison.OrdinalIgnoreCase);

    private static bool IsAtlasIndex(string path)
    {
        string n = Path.GetFileName(path);
        return n.Contains("atlas", StringComparison.OrdinalIgnoreCase) && n.Contains("index", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Detects a file's format from its extension and first bytes (JSON) or header (CSV).</summary>
    public static NftCollectionFormat DetectFileFormat(string file)
    {
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext is ".jsonl" or ".ndjson") return NftCollectionFormat.JsonLines;
        if (ext == ".csv")
        {
            var header = CsvReader.Open(file).ReadHeader();
            return CsvColumns.IsLong(header) ? NftCollectionFormat.LongCsv : NftCollectionFormat.WideCsv;
        }
        var bytes = JsonBytes.WithoutBom(JsonBytes.ReadPrefix(file, 1 << 20));
        return JsonBytes.FirstSignificantByte(bytes.Span) switch
        {
            '[' => NftCollectionFormat.JsonArray,
            '{' => JsonLinesFormat.LooksLikeJsonLines(bytes) ? NftCollectionFormat.JsonLines : NftCollectionFormat.TokenFiles,
            _ => throw new InvalidDataException(
                $"Cannot tell the format of '{file}': expected JSON (starting with '[' or '{{'), JSON Lines (.jsonl) or CSV (.csv)."),
        };
    }
}
