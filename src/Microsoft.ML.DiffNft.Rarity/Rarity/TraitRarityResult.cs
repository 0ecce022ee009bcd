namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>The rarity of one token, scored against a fitted collection.</summary>
/// <param name="Score">The score of the fitted method (see <see cref="RarityMethod"/> for its direction).</param>
/// <param name="Rank">The token's rank among the fitted collection, 1 = rarest (see <see cref="TraitRarityTable.Rank"/>).</param>
/// <param name="IsRare">Whether the score reaches the fitted collection's rare threshold.</param>
/// <param name="UniqueTraitCount">
/// The number of the token's traits (including <c>meta_trait:trait_count</c>) whose value occurs once in the collection,
/// or not at all; missing traits never count.
/// </param>
public readonly record struct TraitRarityResult(double Score, int Rank, bool IsRare, int UniqueTraitCount);
