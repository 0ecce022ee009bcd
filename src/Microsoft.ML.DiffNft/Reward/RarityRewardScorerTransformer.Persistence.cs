using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Reward;

public sealed partial class RarityRewardScorerTransformer : IDiffNftPersistable
{
    string IDiffNftPersistable.PersistenceKind => DiffNftPartKinds.RarityReward;

    /// <summary>
    /// Saves the scorer — the reward model and the options that decide its outputs (column names, reward kind) — to one
    /// model file, atomically. Load it with <c>mlContext.Model.LoadDiffNft(path, out _)</c> or
    /// <c>mlContext.Transforms.DiffNft.LoadRarityReward(path)</c>; save a whole pipeline that holds it with
    /// <c>mlContext.Model.SaveDiffNft</c>.
    /// </summary>
    public void Save(string path) => TorchTransformerFile.Save(path, ToEntries());

    void IDiffNftPersistable.Save(Stream stream) => TorchTransformerFile.Save(stream, ToEntries());

    private Dictionary<string, byte[]> ToEntries() => TorchTransformerFile.Entries(Model.ToEntries(), Options);

    /// <summary>
    /// A scorer over the model in <paramref name="entries"/>, with <paramref name="options"/> when given, else the
    /// options saved with it, else the defaults (a model file written by <see cref="RarityRewardModel.Save"/>).
    /// </summary>
    internal static RarityRewardScorerTransformer FromEntries(IHostEnvironment env, IReadOnlyDictionary<string, byte[]> entries,
        string source, RarityRewardScorerOptions? options) =>
        TorchTransformerFile.Load(entries, source, options, _ => null,
            o => RarityRewardModel.FromEntries(entries, source, o.Device),
            (model, o) => new RarityRewardScorerTransformer(env, model, o));
}

/// <summary>Loads the rarity-reward parts of saved pipelines (found by name from <see cref="DiffNftPartKinds"/>).</summary>
internal sealed class RarityRewardScorerPartLoader : IDiffNftPartLoader
{
    public ITransformer Load(IHostEnvironment env, byte[] bytes, string source) =>
        RarityRewardScorerTransformer.FromEntries(env, ArchiveEntries.Read(bytes, source), source, options: null);
}
