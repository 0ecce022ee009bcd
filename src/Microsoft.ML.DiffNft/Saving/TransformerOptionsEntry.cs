using System.Text.Json;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The options of a torch-backed transformer (column names, generation settings, seed, reward kind), stored as one JSON
/// entry of its model archive so that a reloaded transformer gives exactly the outputs of the saved one.
/// </summary>
/// <remarks>
/// <see cref="OptionsJson"/> serialises them: every setting of the model, none of the process that runs it (the
/// cancellation token, the device).
/// </remarks>
internal static class TransformerOptionsEntry
{
    /// <summary>The entry name inside the model archive.</summary>
    public const string EntryName = "transformer-options.json";

    /// <summary>The entry's bytes for <paramref name="options"/>.</summary>
    public static byte[] Serialize<T>(T options) where T : class => JsonSerializer.SerializeToUtf8Bytes(options, OptionsJson.Options);

    /// <summary>The options stored in <paramref name="entries"/>, or null when the archive has none (a model file saved alone).</summary>
    /// <exception cref="InvalidDataException">The entry is not valid JSON for <typeparamref name="T"/>; the message names <paramref name="source"/>.</exception>
    public static T? Read<T>(IReadOnlyDictionary<string, byte[]> entries, string source) where T : class
    {
        if (!entries.TryGetValue(EntryName, out var bytes)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, OptionsJson.Options) ?? throw new JsonException("The options are null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Model file '{source}': entry '{EntryName}' is not valid ({ex.Message}).", ex);
        }
    }
}

/// <summary>
/// The save/load shape shared by the torch-backed transformers (the diffusion generator and the reward scorer): the
/// model file's entries plus <see cref="TransformerOptionsEntry"/>, written alone (<see cref="Save(string, Dictionary{string, byte[]})"/>)
/// or as a part of a saved pipeline (<see cref="Save(Stream, Dictionary{string, byte[]})"/>), and read back into a transformer
/// that owns its model.
/// </summary>
internal static class TorchTransformerFile
{
    /// <summary>The model's entries with the transformer's options added.</summary>
    public static Dictionary<string, byte[]> Entries<TOptions>(Dictionary<string, byte[]> modelEntries, TOptions options) where TOptions : class
    {
        modelEntries[TransformerOptionsEntry.EntryName] = TransformerOptionsEntry.Serialize(options);
        return modelEntries;
    }

    /// <summary>Writes the entries as one model file, atomically.</summary>
    public static void Save(string path, Dictionary<string, byte[]> entries)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, entries);
    }

    /// <summary>Writes the entries as a part of a saved pipeline: the same model archive as a model file, hash list included.</summary>
    public static void Save(Stream stream, Dictionary<string, byte[]> entries) => ArchiveEntries.Write(stream, entries, "(pipeline part)", hashList: true);

    /// <summary>
    /// A transformer over the model in <paramref name="entries"/>, with <paramref name="options"/> when given, else the
    /// options saved with it, else the defaults (a model file saved without a transformer). <paramref name="problem"/>
    /// names what is missing from the options, or null; a model that the options do not fit is disposed.
    /// </summary>
    public static TTransformer Load<TOptions, TModel, TTransformer>(IReadOnlyDictionary<string, byte[]> entries, string source,
        TOptions? options, Func<TOptions, string?> problem, Func<TOptions, TModel> loadModel, Func<TModel, TOptions, TTransformer> create)
        where TOptions : class, new()
        where TModel : IDisposable
    {
        options ??= TransformerOptionsEntry.Read<TOptions>(entries, source) ?? new TOptions();
        if (problem(options) is string missing)
            throw new InvalidDataException($"Model file '{source}': entry '{TransformerOptionsEntry.EntryName}' {missing}.");
        var model = loadModel(options);
        try
        {
            return create(model, options);
        }
        catch (ArgumentException ex)
        {
            model.Dispose();
            throw new InvalidDataException($"Model file '{source}': entry '{TransformerOptionsEntry.EntryName}': {ex.Message}", ex);
        }
    }
}
