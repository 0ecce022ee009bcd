namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// How a token's rarity score is computed from the collection's trait frequencies. In every method a token that lacks a
/// trait type takes the "null" value of that type, with its own frequency, and (by default) the synthetic
/// <c>meta_trait:trait_count</c> trait takes part like any other trait. With N tokens and c the number of tokens that
/// share the token's value of a trait type, p = c / N.
/// </summary>
public enum RarityMethod
{
    /// <summary>
    /// OpenRarity 0.7.5 (the default): the information content Σ −log2 p divided by the collection entropy
    /// H = Σ −p·log2 p over every value of every trait type. Higher is rarer; the mean over the collection is 1.
    /// Ranking orders by the number of unique traits first, then by score.
    /// </summary>
    OpenRarity,

    /// <summary>rarity.tools' "Rarity Score": Σ N / c over every trait type. Higher is rarer.</summary>
    SumOfInverseFrequency,

    /// <summary>
    /// Statistical rarity, the product of the trait probabilities Π p, reported as its base-10 logarithm Σ log10 p
    /// (the product itself underflows for tokens with many rare traits). Lower is rarer.
    /// </summary>
    Statistical,

    /// <summary>Average trait rarity: the mean of p over every trait type. Lower is rarer.</summary>
    Average,
}

/// <summary>What trait rarity does with trait columns marked numeric (annotation <c>TraitIsNumeric</c> = true).</summary>
public enum NumericTraitHandling
{
    /// <summary>
    /// Leave numeric trait columns out entirely, as OpenRarity requires (it rejects collections with numeric traits): they
    /// are neither scored nor counted in <c>meta_trait:trait_count</c>. Naming such a column explicitly is an error.
    /// </summary>
    Exclude,

    /// <summary>Score numeric traits like any string trait, using their text.</summary>
    TreatAsString,
}
