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
    public void Save(string path) => TorchTransformerFile.Save(path, ToEntries());

    void IDiffNftPersistable.Save(Stream stream) => TorchTransformerFile.Save(stream, ToEntries());

    private Dictionary<string, byte[]> ToEntries() => TorchTransformerFile.Entries(PackageModel.ToEntries(), Options);

    /// <summary>
    /// A generator over the model in <paramref name="entries"/>, with <paramref name="options"/> when given, else the
    /// options saved with it, else the defaults (a model file written by <see cref="DiffusionModel.Save"/>).
    /// </summary>
    internal static DiffusionGeneratorTransformer FromEntries(IHostEnvironment env, IReadOnlyDictionary<string, byte[]> entries,
        string source, GeneratorOptions? options) =>
        TorchTransformerFile.Load(entries, source, options,
            // A null prompt column means the default (GeneratorOptions.PromptColumnName); the rest must be present.
            o => o.Generation is null || string.IsNullOrEmpty(o.ImageColumnName) || o.SeedColumnName is null
                ? "lacks the generation settings or a column name" : null,
            o => DiffusionModel.FromEntries(entries, source, o.Device),
            (model, o) => new DiffusionGeneratorTransformer(env, model, o));
}

/// <summary>Loads the diffusion-generator parts of saved pipelines (found by name from <see cref="DiffNftPartKinds"/>).</summary>
internal sealed class DiffusionGeneratorPartLoader : IDiffNftPartLoader
{
    public ITransformer Load(IHostEnvironment env, byte[] bytes, string source) =>
        DiffusionGeneratorTransformer.FromEntries(env, ArchiveEntries.Read(bytes, source), source, options: null);
}
