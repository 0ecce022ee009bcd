namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// What <see cref="TraitRarityEstimator.Fit"/> learns from a collection: the frequency of every trait value, the
/// collection entropy, the collection in rarity order and the rare threshold. Immutable.
/// </summary>
/// <remarks>
/// Scoring follows OpenRarity 0.7.5: trait names and values are trimmed and lower-cased; a token that lacks a trait type
/// takes its "null" value; every token gets a <c>meta_trait:trait_count</c> trait (see
/// <see cref="TraitRarityOptions.IncludeTraitCount"/>). A value the collection never showed — on a new token, or on
/// traits decoded from a generated image — is scored as if one fitted token had it (c = 1, p = 1/N), which makes it as
/// rare as the rarest fitted value and counts it as a unique trait; the same holds for a missing trait whose type every
/// fitted token has. Scores are therefore always finite.
/// </remarks>
public sealed class TraitRarityTable
{
    private readonly int[]? _traitCountCounts;
    private readonly TraitValueIndex[] _indexes;
    private readonly Dictionary<string, int> _traitByName;

    internal TraitRarityTable(RarityMethod method, int tokenCount, IReadOnlyList<TraitFrequency> traits, int[]? traitCountCounts,
        RarityScorer scorer, RarityRanking ranking)
    {
        Method = method;
        TokenCount = tokenCount;
        Traits = traits;
        _traitCountCounts = traitCountCounts;
        Scorer = scorer;
        Ranking = ranking;
        _indexes = traits.Select(t => t.Index).ToArray();
        _traitByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int j = 0; j < traits.Count; j++)
            _traitByName[traits[j].Name] = j;
    }

    /// <summary>The scoring method.</summary>
    public RarityMethod Method { get; }

    /// <summary>The number of tokens in the fitted collection (N).</summary>
    public int TokenCount { get; }

    /// <summary>The scored trait types, in input-column order.</summary>
    public IReadOnlyList<TraitFrequency> Traits { get; }

    /// <summary>Whether the synthetic <c>meta_trait:trait_count</c> trait takes part.</summary>
    public bool IncludesTraitCount => _traitCountCounts is not null;

    /// <summary>
    /// The frequency table of <c>meta_trait:trait_count</c>: element k is the number of fitted tokens with k traits whose
    /// value is neither empty nor "none". Empty when the trait count does not take part.
    /// </summary>
    public IReadOnlyList<int> TraitCountCounts => _traitCountCounts ?? [];

    /// <summary>
    /// OpenRarity's collection entropy H = Σ −p·log2 p over every value (including "null" and the trait count) of every
    /// trait type, in bits. The OpenRarity score divides by it (by 1 when it is 0). Also the mean information content of
    /// the fitted tokens.
    /// </summary>
    public double Entropy => Scorer.Entropy;

    /// <summary>True for methods where a higher score is rarer (OpenRarity, sum of inverse frequency).</summary>
    public bool HigherIsRarer => Scorer.HigherIsRarer;

    /// <summary>The share of the fitted collection labelled rare.</summary>
    public double RareQuantile => Ranking.RareQuantile;

    /// <summary>
    /// The rare threshold: the score of the token at position ⌈q·N⌉ when the fitted collection is ordered from rarest by
    /// score. A score at least as rare (≥ for OpenRarity and the sum, ≤ for statistical and average; ties within relative
    /// 1e-9 included) is rare.
    /// </summary>
    public double RareThreshold => HigherIsRarer ? Ranking.RareKey : -Ranking.RareKey;

    internal RarityScorer Scorer { get; }

    internal RarityRanking Ranking { get; }

    /// <summary>
    /// The rank of a score among the fitted collection, 1 = rarest: 1 + the number of fitted tokens that come strictly
    /// before it in rarity order, or the rank of the token just before it when their scores are equal within relative
    /// 1e-9. OpenRarity orders by <paramref name="uniqueTraitCount"/> first, then by score; the other methods by score alone
    /// (the unique count is ignored). For a fitted token this is its OpenRarity rank.
    /// </summary>
    /// <param name="score">The score, as this table's method computes it.</param>
    /// <param name="uniqueTraitCount">The number of the token's traits whose value is unique (OpenRarity only).</param>
    public int Rank(double score, int uniqueTraitCount)
    {
        if (double.IsNaN(score)) throw new ArgumentOutOfRangeException(nameof(score), "The score must be a number.");
        ArgumentOutOfRangeException.ThrowIfNegative(uniqueTraitCount);
        return Ranking.Rank(Method == RarityMethod.OpenRarity ? uniqueTraitCount : 0, Scorer.Key(score));
    }

    /// <summary>
    /// Scores one token given its traits by trait type (matched after trimming and lower-casing). A trait type the token
    /// lacks may be left out or given as null or empty.
    /// </summary>
    /// <param name="traits">Trait type → value.</param>
    /// <exception cref="ArgumentException">A trait type is not one of the fitted collection's.</exception>
    public TraitRarityResult Score(IReadOnlyDictionary<string, string?> traits)
    {
        ArgumentNullException.ThrowIfNull(traits);
        var slots = new int[Traits.Count];
        for (int j = 0; j < slots.Length; j++) slots[j] = Scorer.NullSlot(j);
        var buffer = new char[TraitText.BufferLength];
        foreach (var (type, value) in traits)
        {
            if (type is null || !_traitByName.TryGetValue(TraitText.Normalize(type), out int j))
                throw new ArgumentException(
                    $"Trait type '{type}' is not one of the fitted collection's trait types ({string.Join(", ", Traits.Select(t => t.TraitType))}).",
                    nameof(traits));
            slots[j] = Slot(j, value.AsSpan(), ref buffer);
        }
        return Score(slots);
    }

    internal TraitRarityResult Score(ReadOnlySpan<int> slots)
    {
        double score = Scorer.Score(slots, out int unique, out _);
        double key = Scorer.Key(score);
        int rank = Ranking.Rank(Method == RarityMethod.OpenRarity ? unique : 0, key);
        return new TraitRarityResult(score, rank, Ranking.IsRare(key), unique);
    }

    /// <summary>
    /// The scorer slot of a raw value of trait <paramref name="trait"/>: empty text means the token lacks it.
    /// <paramref name="buffer"/> is scratch space for the normalised value; it grows when a value is longer.
    /// </summary>
    internal int Slot(int trait, ReadOnlySpan<char> raw, ref char[] buffer)
    {
        if (raw.IsEmpty) return Scorer.NullSlot(trait);
        if (raw.Length > buffer.Length) buffer = new char[raw.Length];
        var normalized = TraitText.Normalize(raw, buffer);
        int id = _indexes[trait].Find(normalized);
        return id >= 0 ? id : Scorer.UnseenSlot(trait, TraitText.CountsAsTrait(normalized));
    }
}
