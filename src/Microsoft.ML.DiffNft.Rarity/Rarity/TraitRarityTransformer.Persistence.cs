using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

public sealed partial class TraitRarityTransformer : IDiffNftPersistable
{
    string IDiffNftPersistable.PersistenceKind => DiffNftPartKinds.TraitRarity;

    /// <summary>
    /// Saves the transformer to <paramref name="path"/> as a versioned JSON model file (the frequency table,
    /// the collection's scores and the output settings), atomically: a failed save leaves any earlier file as it was. Load it with
    /// <c>mlContext.Model.LoadDiffNft(path, out _)</c> or <c>mlContext.Transforms.DiffNft.LoadTraitRarity(path)</c>; save a
    /// whole pipeline that holds it with <c>mlContext.Model.SaveDiffNft</c>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream => TraitRarityFile.Save(this, stream));
    }

    void IDiffNftPersistable.Save(Stream stream) => TraitRarityFile.Save(this, stream);
}

/// <summary>Loads the trait-rarity parts of saved pipelines.</summary>
internal sealed class TraitRarityPartLoader : IDiffNftPartLoader
{
    public ITransformer Load(IHostEnvironment env, byte[] bytes, string source)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return TraitRarityFile.Load(env, stream, source);
    }
}
