using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// Writes and reads saved pipelines: one zip (<see cref="ArchiveEntries"/>) with a manifest
/// (<see cref="DiffNftPipelineManifest"/>), the input schema, and one entry per part — each run of consecutive ML.NET
/// transformers as an <c>mlContext.Model.Save</c> stream, each DiffNft transformer in its own format.
/// </summary>
internal static class DiffNftPipelineFile
{
    private const string InputSchemaEntry = "input-schema.mlnet.zip";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/>; nothing is written unless every part saved.</summary>
    public static void Save(ModelOperationsCatalog mlnet, IHostEnvironment env, ITransformer model, DataViewSchema? inputSchema, string path)
    {
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var parts = new List<DiffNftPipelinePart>();
        var run = new List<ITransformer>();
        int index = 0;

        void Add(string kind, string extension, Action<Stream> write, string what)
        {
            byte[] bytes;
            try
            {
                using var ms = new MemoryStream();
                write(ms);
                bytes = ms.ToArray();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"Cannot save '{path}': part {index} ({what}) failed to save, so no file was written: {ex.Message}", ex);
            }
            string entry = $"parts/{index:D2}.{kind}{extension}";
            entries[entry] = bytes;
            parts.Add(new DiffNftPipelinePart(kind, entry, Sha256(bytes)));
            index++;
        }

        void FlushRun()
        {
            if (run.Count == 0) return;
            var chain = new TransformerChain<ITransformer>(run.ToArray());
            string what = string.Join(", ", run.Select(t => t.GetType().Name));
            // No schema: ML.NET transformers save their own state without one, and the schema after a DiffNft part can
            // hold columns (images) that ML.NET's schema writer cannot store. Loading ignores a segment's schema anyway.
            Add(DiffNftPartKinds.MLNet, ".zip", s => mlnet.Save(chain, null, s), what);
            run.Clear();
        }

        foreach (var transformer in Flatten(model))
        {
            if (transformer is IDiffNftPersistable persistable)
            {
                FlushRun();
                Add(persistable.PersistenceKind, "", persistable.Save, transformer.GetType().Name);
            }
            else
            {
                run.Add(transformer);
            }
        }
        FlushRun();

        DiffNftPipelineEntry? schemaEntry = null;
        if (inputSchema is not null)
        {
            // ML.NET's own format stores the schema: an empty chain saved with it.
            using var ms = new MemoryStream();
            mlnet.Save(new TransformerChain<ITransformer>(), inputSchema, ms);
            entries[InputSchemaEntry] = ms.ToArray();
            schemaEntry = new DiffNftPipelineEntry(InputSchemaEntry, Sha256(entries[InputSchemaEntry]));
        }
        var manifest = new DiffNftPipelineManifest(DiffNftPipelineManifest.FormatName, DiffNftPipelineManifest.FormatVersion, schemaEntry, parts);
        entries[DiffNftPipelineManifest.EntryName] = JsonSerializer.SerializeToUtf8Bytes(manifest, s_json);
        // No hash list: the manifest already records every entry's SHA-256, and an entry it does not list would make
        // builds that predate hash lists refuse the file.
        AtomicFile.Write(path, stream => ArchiveEntries.Write(stream, entries, path, hashList: false));
    }

    /// <summary>
    /// Loads a pipeline saved by <see cref="Save"/>, or a single DiffNft transformer saved by its <c>Save(path)</c>; the
    /// input schema is null when none was saved.
    /// </summary>
    public static ITransformer Load(ModelOperationsCatalog mlnet, IHostEnvironment env, string path, out DataViewSchema? inputSchema)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        inputSchema = null;
        if (!StartsLikeZip(path))
            return LoadSingle(env, DiffNftPartKinds.TraitRarity, File.ReadAllBytes(path), path);

        var entries = ArchiveEntries.Read(path);
        if (!entries.TryGetValue(DiffNftPipelineManifest.EntryName, out var manifestBytes))
            return LoadStandaloneArchive(env, entries, path);

        var manifest = ReadManifest(manifestBytes, path);
        var listed = new HashSet<string>(StringComparer.Ordinal) { DiffNftPipelineManifest.EntryName };
        if (manifest.InputSchema is not null)
        {
            var bytes = Checked(entries, manifest.InputSchema.Entry, manifest.InputSchema.Sha256, path, "inputSchema", listed);
            inputSchema = LoadMLNet(mlnet, bytes, path, manifest.InputSchema.Entry!, out _);
        }
        for (int i = 0; i < manifest.Parts!.Count; i++)
        {
            var part = manifest.Parts[i];
            if (!DiffNftPartKinds.IsKnown(part?.Kind))
                throw Bad(path, $"part {i} has kind '{part?.Kind}', which this build does not know (it reads {string.Join(", ", DiffNftPartKinds.All)})");
            Checked(entries, part!.Entry, part.Sha256, path, $"parts[{i}]", listed);
        }
        foreach (var name in entries.Keys)
            if (!listed.Contains(name))
                throw Bad(path, $"entry '{name}' is not listed in the manifest (the file was changed after it was saved)");

        var loaded = new List<ITransformer>();
        try
        {
            foreach (var part in manifest.Parts!)
            {
                byte[] bytes = entries[part.Entry!];
                if (part.Kind == DiffNftPartKinds.MLNet)
                {
                    LoadMLNet(mlnet, bytes, path, part.Entry!, out var transformer);
                    loaded.AddRange(Flatten(transformer));
                }
                else
                {
                    loaded.Add(DiffNftPartKinds.Loader(part.Kind!, path).Load(env, bytes, $"{path}:{part.Entry}"));
                }
            }
        }
        catch
        {
            foreach (var t in loaded) (t as IDisposable)?.Dispose();
            throw;
        }
        return new TransformerChain<ITransformer>(loaded.ToArray());
    }

    /// <summary>The transformers of <paramref name="model"/> in order, with nested chains opened.</summary>
    private static IEnumerable<ITransformer> Flatten(ITransformer model)
    {
        if (model.GetType().IsGenericType && model.GetType().GetGenericTypeDefinition() == typeof(TransformerChain<>))
        {
            foreach (var inner in (IEnumerable<ITransformer>)model)
                foreach (var t in Flatten(inner))
                    yield return t;
        }
        else
        {
            yield return model;
        }
    }

    private static DiffNftPipelineManifest ReadManifest(byte[] bytes, string path)
    {
        DiffNftPipelineManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<DiffNftPipelineManifest>(bytes, s_json);
        }
        catch (JsonException ex)
        {
            throw Bad(path, $"entry '{DiffNftPipelineManifest.EntryName}' is not valid JSON ({ex.Message})", ex);
        }
        if (manifest?.Format != DiffNftPipelineManifest.FormatName)
            throw Bad(path, $"entry '{DiffNftPipelineManifest.EntryName}' has format '{manifest?.Format}'; expected '{DiffNftPipelineManifest.FormatName}'");
        if (manifest.Version > DiffNftPipelineManifest.FormatVersion)
            throw Bad(path, $"has format version {manifest.Version}: it was written by a newer Microsoft.ML.DiffNft; this one reads version {DiffNftPipelineManifest.FormatVersion}");
        if (manifest.Version != DiffNftPipelineManifest.FormatVersion)
            throw Bad(path, $"has format version {manifest.Version}; this build reads version {DiffNftPipelineManifest.FormatVersion}");
        if (manifest.Parts is null)
            throw Bad(path, $"entry '{DiffNftPipelineManifest.EntryName}' lists no parts");
        return manifest;
    }

    private static byte[] Checked(Dictionary<string, byte[]> entries, string? entry, string? sha256, string path, string field, HashSet<string> listed)
    {
        if (string.IsNullOrEmpty(entry)) throw Bad(path, $"the manifest's {field} names no entry");
        if (!listed.Add(entry)) throw Bad(path, $"the manifest names entry '{entry}' twice");
        if (!entries.TryGetValue(entry, out var bytes)) throw Bad(path, $"has no entry '{entry}', which the manifest lists");
        if (!string.Equals(Sha256(bytes), sha256, StringComparison.Ordinal))
            throw Bad(path, $"entry '{entry}' fails its SHA-256 check (the file is damaged or was edited)");
        return bytes;
    }

    private static DataViewSchema? LoadMLNet(ModelOperationsCatalog mlnet, byte[] bytes, string path, string entry, out ITransformer transformer)
    {
        try
        {
            using var ms = new MemoryStream(bytes, writable: false);
            transformer = mlnet.Load(ms, out var schema);
            return schema;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Bad(path, $"entry '{entry}' is not a model ML.NET can load ({ex.Message})", ex);
        }
    }

    private static ITransformer LoadStandaloneArchive(IHostEnvironment env, Dictionary<string, byte[]> entries, string path)
    {
        string? format = null;
        if (entries.TryGetValue("diffnft-model.json", out var modelManifest))
        {
            try
            {
                using var doc = JsonDocument.Parse(modelManifest);
                if (doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("Format", out var f) && f.ValueKind == JsonValueKind.String)
                    format = f.GetString();
            }
            catch (JsonException ex)
            {
                throw Bad(path, $"entry 'diffnft-model.json' is not valid JSON ({ex.Message})", ex);
            }
        }
        string kind = DiffNftPartKinds.KindOfArchiveFormat(format)
            ?? throw Bad(path, $"is neither a saved pipeline (no entry '{DiffNftPipelineManifest.EntryName}') nor a DiffNft model (format '{format}')");
        return LoadSingle(env, kind, File.ReadAllBytes(path), path);
    }

    private static ITransformer LoadSingle(IHostEnvironment env, string kind, byte[] bytes, string path) =>
        DiffNftPartKinds.Loader(kind, path).Load(env, bytes, path);

    private static bool StartsLikeZip(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var fs = File.OpenRead(path);
        int n = fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        return ArchiveEntries.LooksLikeZip(head[..n]);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static InvalidDataException Bad(string path, string problem, Exception? inner = null) =>
        new($"Model file '{path}': {problem}.", inner);
}
