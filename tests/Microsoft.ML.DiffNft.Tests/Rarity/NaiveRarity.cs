using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// A deliberately plain re-implementation of the rarity methods, written from the OpenRarity description (dictionaries of
/// normalised attributes, a linear scan for ranks), to check the pipeline against on random collections.
/// </summary>
internal sealed class NaiveRarity
{
    private const string TraitCount = "meta_trait:trait_count";
    private readonly RarityMethod _method;
    private readonly int _n;
    private readonly List<string> _types;
    private readonly Dictionary<(string Type, string Value), int> _counts = new();
    private readonly Dictionary<string, int> _nulls = new();
    private readonly List<(int Unique, double Score)> _fitted = new();

    public NaiveRarity(IReadOnlyList<IReadOnlyDictionary<string, string?>> tokens, RarityMethod method)
    {
        _method = method;
        _n = tokens.Count;
        var normalized = tokens.Select(Normalize).ToList();
        _types = normalized.SelectMany(t => t.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var t in normalized)
            foreach (var kv in t)
                _counts[(kv.Key, kv.Value)] = _counts.GetValueOrDefault((kv.Key, kv.Value)) + 1;
        foreach (var type in _types)
            _nulls[type] = _n - _counts.Where(kv => kv.Key.Type == type).Sum(kv => kv.Value);
        Entropy = -_counts.Values.Concat(_nulls.Values.Where(c => c > 0)).Sum(c => (double)c / _n * Math.Log2((double)c / _n));
        foreach (var t in normalized) _fitted.Add(ScoreNormalized(t));
        Order = _fitted.Select((x, i) => (x, i))
            .OrderByDescending(p => _method == RarityMethod.OpenRarity ? p.x.Unique : 0)
            .ThenByDescending(p => Key(p.x.Score))
            .Select(p => p.i).ToList();
    }

    public double Entropy { get; }

    /// <summary>Fitted token indices in rarity order (stable).</summary>
    public List<int> Order { get; }

    public double FittedScore(int token) => _fitted[token].Score;

    public int FittedUnique(int token) => _fitted[token].Unique;

    /// <summary>Competition ranks with the previous-neighbour isclose rule, by fitted token index.</summary>
    public int[] FittedRanks()
    {
        var ranks = new int[_n];
        for (int i = 0; i < Order.Count; i++)
        {
            int t = Order[i];
            ranks[t] = i > 0 && IsClose(_fitted[t].Score, _fitted[Order[i - 1]].Score) ? ranks[Order[i - 1]] : i + 1;
        }
        return ranks;
    }

    /// <summary>Scores any token against the fitted collection; unseen values count as c = 1.</summary>
    public (int Unique, double Score) Score(IReadOnlyDictionary<string, string?> token) => ScoreNormalized(Normalize(token));

    /// <summary>Rank of any (unique, score) among the fitted tokens, by a linear scan of the sorted list.</summary>
    public int Rank(int unique, double score)
    {
        var ranks = FittedRanks();
        int u = _method == RarityMethod.OpenRarity ? unique : 0;
        int before = 0;
        int? previous = null;
        foreach (int t in Order)
        {
            int tu = _method == RarityMethod.OpenRarity ? _fitted[t].Unique : 0;
            bool strictlyBefore = tu > u || (tu == u && Key(_fitted[t].Score) > Key(score));
            if (!strictlyBefore) break;
            before++;
            previous = t;
        }
        return previous is int p && IsClose(score, _fitted[p].Score) ? ranks[p] : before + 1;
    }

    private (int Unique, double Score) ScoreNormalized(Dictionary<string, string> token)
    {
        var counts = new List<int>();
        int unique = 0;
        foreach (var type in _types)
        {
            int c;
            if (token.TryGetValue(type, out var v))
            {
                c = _counts.GetValueOrDefault((type, v));
                if (c <= 1) unique++;
            }
            else c = _nulls[type];
            counts.Add(Math.Max(c, 1));
        }
        double n = _n;
        double score = _method switch
        {
            RarityMethod.OpenRarity => counts.Sum(c => -Math.Log2(c / n)) / (Entropy == 0 ? 1 : Entropy),
            RarityMethod.SumOfInverseFrequency => counts.Sum(c => n / c),
            RarityMethod.Statistical => counts.Sum(c => Math.Log10(c / n)),
            RarityMethod.Average => counts.Average(c => c / n),
            _ => throw new ArgumentOutOfRangeException(),
        };
        return (unique, score);
    }

    private double Key(double score) => _method is RarityMethod.OpenRarity or RarityMethod.SumOfInverseFrequency ? score : -score;

    private static bool IsClose(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    private static Dictionary<string, string> Normalize(IReadOnlyDictionary<string, string?> token)
    {
        var result = new Dictionary<string, string>();
        foreach (var (k, v) in token)
            if (!string.IsNullOrEmpty(v))
                result[k.Trim().ToLowerInvariant()] = v.Trim().ToLowerInvariant();
        result[TraitCount] = result.Count(kv => kv.Value is not ("" or "none")).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }
}
