using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>
/// The DiffNft transforms, reached as <c>mlContext.Transforms.DiffNft</c>. Each operation is an extension method in a
/// <c>*Catalog</c> class beside this one (for example <see cref="TraitRarityCatalog.ComputeTraitRarity(DiffNftCatalog, TraitRarityOptions)"/>),
/// like ML.NET's own sub-catalogs.
/// </summary>
/// <remarks>
/// One instance exists per <see cref="TransformsCatalog"/>, so repeated <c>mlContext.Transforms.DiffNft</c> calls return the
/// same object. It carries the <see cref="MLContext"/>'s own environment, so the context's seed, log and settings apply
/// to every estimator created from it.
/// </remarks>
public sealed class DiffNftCatalog
{
    internal DiffNftCatalog(IHostEnvironment environment)
    {
        Environment = environment;
    }

    /// <summary>The environment of the <see cref="MLContext"/> this catalog belongs to.</summary>
    internal IHostEnvironment Environment { get; }
}
