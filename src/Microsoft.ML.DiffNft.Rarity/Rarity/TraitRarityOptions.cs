namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>Options for <see cref="TraitRarityEstimator"/> (<c>mlContext.Transforms.DiffNft.ComputeTraitRarity</c>).</summary>
public sealed class TraitRarityOptions
{
    /// <summary>Default option values.</summary>
    public static class Defaults
    {
        /// <summary>The score column name.</summary>
        public const string ScoreColumnName = "RarityScore";

        /// <summary>The rank column name.</summary>
        public const string RankColumnName = "RarityRank";

        /// <summary>The rare-flag column name.</summary>
        public const string IsRareColumnName = "IsRare";

        /// <summary>The share of the collection labelled rare: the top 5 %, the DiffNFTGen paper's labelling rule.</summary>
        public const double RareQuantile = 0.05;

        /// <summary>The scoring method.</summary>
        public const RarityMethod Method = RarityMethod.OpenRarity;
    }

    /// <summary>
    /// The text columns that hold trait values, one column per trait type; an empty value means the token lacks the trait.
    /// When null, every trait column of the input is used: the columns annotated with <c>TraitType</c> (as a loaded
    /// collection's data view has), or, when no column has that annotation, every visible text column except
    /// <c>TokenId</c>, <c>Image</c> and <c>Caption</c>.
    /// </summary>
    public string[]? TraitColumnNames { get; set; }

    /// <summary>The scoring method. Default: <see cref="RarityMethod.OpenRarity"/>.</summary>
    public RarityMethod Method { get; set; } = Defaults.Method;

    /// <summary>
    /// Name of the output score column: <see cref="float"/> (or <see cref="double"/> with
    /// <see cref="UseDoublePrecision"/>). Default: <c>RarityScore</c>.
    /// </summary>
    public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

    /// <summary>
    /// Name of the output rank column (<see cref="int"/>, 1 = rarest), the row's rank among the fitted collection.
    /// Default: <c>RarityRank</c>.
    /// </summary>
    public string RankColumnName { get; set; } = Defaults.RankColumnName;

    /// <summary>
    /// Name of the output rare flag (<see cref="bool"/>): true when the row's score is at least as rare as the fitted
    /// collection's <see cref="RareQuantile"/> threshold. Default: <c>IsRare</c>.
    /// </summary>
    public string IsRareColumnName { get; set; } = Defaults.IsRareColumnName;

    /// <summary>
    /// When set, also output a vector column of this name with the probability p = c / N of the row's value of every
    /// trait type, in trait-column order, followed by <c>meta_trait:trait_count</c> when
    /// <see cref="IncludeTraitCount"/> is on; its slot names are the trait types. Default: null (not produced).
    /// </summary>
    public string? ProbabilitiesColumnName { get; set; }

    /// <summary>
    /// The share of the fitted collection labelled rare, in (0, 1]. The threshold is the score of the token at position
    /// ⌈q·N⌉ in rarity order (by score alone); rows scoring at least as rare (ties within relative 1e-9 included) are
    /// rare. Default: 0.05.
    /// </summary>
    public double RareQuantile { get; set; } = Defaults.RareQuantile;

    /// <summary>What to do with trait columns annotated as numeric. Default: <see cref="NumericTraitHandling.Exclude"/>.</summary>
    public NumericTraitHandling NumericTraits { get; set; } = NumericTraitHandling.Exclude;

    /// <summary>
    /// Whether every token gets OpenRarity's synthetic <c>meta_trait:trait_count</c> trait (the number of its traits whose
    /// value is neither empty nor "none"), for every method. Default: true, as OpenRarity does.
    /// </summary>
    public bool IncludeTraitCount { get; set; } = true;

    /// <summary>
    /// When true, the score and probability columns are <see cref="double"/> instead of <see cref="float"/>, so they carry
    /// the exact values the method computes. Default: false.
    /// </summary>
    public bool UseDoublePrecision { get; set; }
}
