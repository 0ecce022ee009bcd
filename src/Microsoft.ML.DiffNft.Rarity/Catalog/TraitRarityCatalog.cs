using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML;

/// <summary>Trait rarity in ML.NET pipelines: <c>mlContext.Transforms.DiffNft.ComputeTraitRarity(…)</c>.</summary>
public static class TraitRarityCatalog
{
    /// <summary>
    /// Creates a <see cref="TraitRarityEstimator"/> that learns a collection's trait frequencies and scores rows by
    /// trait rarity, adding <paramref name="scoreColumnName"/> (<see cref="float"/>), <c>RarityRank</c>
    /// (<see cref="int"/>, 1 = rarest) and <c>IsRare</c> (<see cref="bool"/>).
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="scoreColumnName">Name of the score column.</param>
    /// <param name="traitColumnNames">
    /// The text columns with trait values, one per trait type; null for every trait column of the input (see
    /// <see cref="TraitRarityOptions.TraitColumnNames"/>).
    /// </param>
    /// <param name="method">The scoring method; OpenRarity by default.</param>
    /// <param name="rareQuantile">The share of the fitted collection labelled rare, in (0, 1]; 5 % by default.</param>
    /// <example>
    /// <code>
    /// var mlContext = new MLContext(seed: 1);
    /// var rarity = mlContext.Transforms.DiffNft.ComputeTraitRarity().Fit(collectionView);
    /// var scored = rarity.Transform(collectionView);   // RarityScore, RarityRank, IsRare
    /// rarity.Save("rarity.json");                      // or mlContext.Model.SaveDiffNft(model, schema, path) for a chain
    /// </code>
    /// </example>
    public static TraitRarityEstimator ComputeTraitRarity(this DiffNftCatalog catalog,
        string scoreColumnName = TraitRarityOptions.Defaults.ScoreColumnName,
        string[]? traitColumnNames = null,
        RarityMethod method = TraitRarityOptions.Defaults.Method,
        double rareQuantile = TraitRarityOptions.Defaults.RareQuantile)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TraitRarityEstimator(catalog.Environment, new TraitRarityOptions
        {
            ScoreColumnName = scoreColumnName,
            TraitColumnNames = traitColumnNames,
            Method = method,
            RareQuantile = rareQuantile,
        });
    }

    /// <summary>Creates a <see cref="TraitRarityEstimator"/> with full control over its inputs, outputs and method.</summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="options">The options; they are copied, so later changes do not affect the estimator.</param>
    public static TraitRarityEstimator ComputeTraitRarity(this DiffNftCatalog catalog, TraitRarityOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new TraitRarityEstimator(catalog.Environment, options);
    }

    /// <summary>
    /// Loads a trait-rarity transformer saved with <see cref="TraitRarityTransformer.Save(string)"/>, checking its format,
    /// version and content (a damaged file gives an <see cref="InvalidDataException"/> naming it). A chain that holds it is
    /// loaded with <c>mlContext.Model.LoadDiffNft</c>.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="path">The file.</param>
    public static TraitRarityTransformer LoadTraitRarity(this DiffNftCatalog catalog, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return TraitRarityFile.Load(catalog.Environment, path);
    }
}
