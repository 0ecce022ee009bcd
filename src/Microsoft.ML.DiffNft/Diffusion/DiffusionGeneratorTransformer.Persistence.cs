using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Diffusion;

public sealed partial class DiffusionGeneratorTransformer : IDiffNftPersistable
{
    string IDiffNftPersistable.PersistenceKind => DiffNftPartKinds.DiffusionGenerator;

    /// <summary>
    /// Saves the generator — the diffusion model and the options that decide its images (column names, seed, sampling
    /// settings) — to one model file, atomically. Load it with <c>mlContext.Model.LoadDiffNft(path, out _)</c> or
    /// <c>mlContext.Transforms.DiffNft.LoadDiffusionGenerator(path)</c>; save a whole pipeline that holds it with
    /// <c>mlContext.Model.SaveDiffNft</c>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, ToEntries());
    }

    void IDiffNftPersistable.Save(Stream stream) => ArchiveEntries.Write(stream, ToEntries(), "(pipeline part)");

    private Dictionary<string, byte[]> ToEntries()
    {
        var entries = Model.ToEntries();
        entries[TransformerOptionsEntry.EntryName] = TransformerOptionsEntry.Serialize(Options);
        return entries;
    }

    /// <summary>
    /// A generator over the model in <paramref name="entries"/>, with <paramref name="options"/> when given, else the
    /// options saved with it, else the defaults (a model file written by <see cref="DiffusionModel.Save"/>).
    /// </summary>
    internal static DiffusionGeneratorTransformer FromEntries(IHostEnvironment env, IReadOnlyDictionary<string, byte[]> entries,
        string source, GeneratorOptions? options)
    {
        options ??= TransformerOptionsEntry.Read<GeneratorOptions>(entries, source) ?? new GeneratorOptions();
        // A null prompt column means the default (GeneratorOptions.PromptColumnName); the rest must be present.
        if (options.Generation is null || string.IsNullOrEmpty(options.ImageColumnName) || options.SeedColumnName is null)
            throw new InvalidDataException($"Model file '{source}': entry '{TransformerOptionsEntry.EntryName}' lacks the generation settings or a column name.");
        var model = DiffusionModel.FromEntries(entries, source, options.Device);
        try
        {
            return new DiffusionGeneratorTransformer(env, model, options);
        }
        catch (ArgumentException ex)
        {
            model.Dispose();
            throw new InvalidDataException($"Model file '{source}': entry '{TransformerOptionsEntry.EntryName}': {ex.Message}", ex);
        }
    }
}

/// <summary>Loads the diffusion-generator parts of saved pipelines (found by name from <see cref="DiffNftPartKinds"/>).</summary>
internal sealed class DiffusionGeneratorPartLoader : IDiffNftPartLoader
{
    public ITransformer Load(IHostEnvironment env, byte[] bytes, string source) =>
        DiffusionGeneratorTransformer.FromEntries(env, ArchiveEntries.Read(bytes, source), source, options: null);
}
