namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// Per-value lookup tables that turn a row's trait values into a score with a few array reads per trait.
/// </summary>
/// <remarks>
/// Each trait type has one slot per fitted value, then a slot for "null" (the token lacks the trait) and two for values
/// the collection never showed (one for values that count towards the trait count, one for "none" and blank values).
/// A slot holds the value's term of the score sum, its probability, whether it is unique and whether it counts towards
/// the trait count. Unseen values, and a null for a trait type every fitted token has, are treated as if exactly one
/// fitted token had them (c = 1, p = 1/N): at least as rare as the collection's rarest value, and always finite. An
/// unseen value counts as a unique trait; a null never does (it is not an attribute, as in OpenRarity).
/// </remarks>
internal sealed class RarityScorer
{
    private readonly RarityMethod _method;
    private readonly double[][] _term;
    private readonly double[][] _probability;
    private readonly bool[][] _unique;
    private readonly bool[][] _countsAsTrait;
    private readonly double[]? _countTerm;
    private readonly double[]? _countProbability;
    private readonly bool[]? _countUnique;
    private readonly double _divisor;

    public RarityScorer(RarityMethod method, int tokenCount, IReadOnlyList<TraitFrequency> traits, int[]? traitCountCounts)
    {
        _method = method;
        TokenCount = tokenCount;
        TraitCount = traits.Count;
        double n = tokenCount;
        _term = new double[traits.Count][];
        _probability = new double[traits.Count][];
        _unique = new bool[traits.Count][];
        _countsAsTrait = new bool[traits.Count][];
        for (int j = 0; j < traits.Count; j++)
        {
            var t = traits[j];
            var counts = t.CountSpan;
            int v = counts.Length;
            var term = new double[v + 3];
            var prob = new double[v + 3];
            var unique = new bool[v + 3];
            var counted = new bool[v + 3];
            for (int k = 0; k < v; k++)
            {
                term[k] = Term(method, counts[k], n);
                prob[k] = counts[k] / n;
                unique[k] = counts[k] == 1;
                counted[k] = TraitText.CountsAsTrait(t.Values[k]);
            }
            // Null: its own frequency; a missing trait is never an attribute, so never unique and never counted.
            int nullCount = Math.Max(t.NullCount, 1);
            term[v] = Term(method, nullCount, n);
            prob[v] = nullCount / n;
            // Unseen values: c = 1; the first slot for values that count towards the trait count, the second for the
            // ones that do not ("none", or blank once trimmed).
            for (int u = v + 1; u <= v + 2; u++)
            {
                term[u] = Term(method, 1, n);
                prob[u] = 1 / n;
                unique[u] = true;
                counted[u] = u == v + 1;
            }
            _term[j] = term;
            _probability[j] = prob;
            _unique[j] = unique;
            _countsAsTrait[j] = counted;
        }

        if (traitCountCounts is not null)
        {
            if (traitCountCounts.Length != traits.Count + 1)
                throw new ArgumentException("The trait-count table needs one entry for each count from 0 to the number of trait types.", nameof(traitCountCounts));
            int m = traitCountCounts.Length;
            _countTerm = new double[m];
            _countProbability = new double[m];
            _countUnique = new bool[m];
            for (int k = 0; k < m; k++)
            {
                int c = Math.Max(traitCountCounts[k], 1);
                _countTerm[k] = Term(method, c, n);
                _countProbability[k] = c / n;
                _countUnique[k] = c == 1;
            }
        }

        Entropy = ComputeEntropy(tokenCount, traits, traitCountCounts);
        _divisor = method switch
        {
            // OpenRarity divides by the entropy, replaced by 1 when it is 0 (a collection where every token is alike).
            RarityMethod.OpenRarity => Entropy == 0 ? 1 : Entropy,
            RarityMethod.Average => Math.Max(1, traits.Count + (traitCountCounts is null ? 0 : 1)),
            _ => 1,
        };
    }

    /// <summary>Number of tokens the tables were fitted on.</summary>
    public int TokenCount { get; }

    /// <summary>Number of (scored) trait types, without the trait count.</summary>
    public int TraitCount { get; }

    /// <summary>OpenRarity's collection entropy H in bits (0 when every token is alike).</summary>
    public double Entropy { get; }

    /// <summary>True when the synthetic trait count takes part.</summary>
    public bool IncludesTraitCount => _countTerm is not null;

    /// <summary>True for methods where a higher score is rarer.</summary>
    public bool HigherIsRarer => _method is RarityMethod.OpenRarity or RarityMethod.SumOfInverseFrequency;

    /// <summary>The slot for a token that lacks trait <paramref name="trait"/>.</summary>
    public int NullSlot(int trait) => _term[trait].Length - 3;

    /// <summary>The slot for a value the collection never showed; <paramref name="countsAsTrait"/> tells whether it counts towards the trait count.</summary>
    public int UnseenSlot(int trait, bool countsAsTrait) => _term[trait].Length - (countsAsTrait ? 2 : 1);

    /// <summary>Scores a row given the slot of each trait. Returns the score and sets the unique-trait count.</summary>
    public double Score(ReadOnlySpan<int> slots, out int uniqueCount, out int traitCountValue)
    {
        double sum = 0;
        int unique = 0, present = 0;
        for (int j = 0; j < slots.Length; j++)
        {
            int s = slots[j];
            sum += _term[j][s];
            if (_unique[j][s]) unique++;
            if (_countsAsTrait[j][s]) present++;
        }
        if (_countTerm is not null)
        {
            // The table has a slot for every count from 0 to the number of trait types, so any row fits.
            sum += _countTerm[present];
            if (_countUnique![present]) unique++;
        }
        uniqueCount = unique;
        traitCountValue = present;
        return sum / _divisor;
    }

    /// <summary>Writes the probability of each slot, followed by the trait count's, into <paramref name="destination"/>.</summary>
    public void Probabilities(ReadOnlySpan<int> slots, int traitCountValue, Span<double> destination)
    {
        for (int j = 0; j < slots.Length; j++)
            destination[j] = _probability[j][slots[j]];
        if (_countProbability is not null)
            destination[slots.Length] = _countProbability[traitCountValue];
    }

    /// <summary>The rarity key of a score: larger is rarer, for every method.</summary>
    public double Key(double score) => HigherIsRarer ? score : -score;

    private static double Term(RarityMethod method, int count, double n) => method switch
    {
        // As open-rarity computes it: -log2(1 / (N / c)).
        RarityMethod.OpenRarity => -Math.Log2(1.0 / (n / count)),
        RarityMethod.SumOfInverseFrequency => n / count,
        RarityMethod.Statistical => Math.Log10(count / n),
        RarityMethod.Average => count / n,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown rarity method."),
    };

    private static double ComputeEntropy(int tokenCount, IReadOnlyList<TraitFrequency> traits, int[]? traitCountCounts)
    {
        double n = tokenCount, h = 0;
        foreach (var t in traits)
        {
            foreach (int c in t.CountSpan) h += Plogp(c, n);
            if (t.NullCount > 0) h += Plogp(t.NullCount, n);
        }
        if (traitCountCounts is not null)
            foreach (int c in traitCountCounts)
                if (c > 0) h += Plogp(c, n);
        // -0.0 (one token) reads as 0.
        return h == 0 ? 0 : h;
    }

    private static double Plogp(int count, double n)
    {
        double p = count / n;
        return -p * Math.Log2(p);
    }
}
