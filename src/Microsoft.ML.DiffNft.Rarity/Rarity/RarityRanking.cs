namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// The fitted collection in rarity order, kept as its distinct (unique-trait count, key) pairs with their token counts,
/// so that any row — from the collection or not — can be ranked against it, and the rare threshold.
/// </summary>
/// <remarks>
/// <para>
/// The key is the score turned so that larger is rarer. OpenRarity sorts by (unique-trait count, score) descending and
/// gives competition ranks (1, 2, 2, 2, 5), where a token shares the previous token's rank when their scores are equal
/// within relative 1e-9 (Python's <c>math.isclose</c>), whatever their unique counts. Other methods sort by key alone
/// (every unique count is 0).
/// </para>
/// <para>
/// A row's rank is the rank it would take if inserted after the fitted tokens with an equal sort key: 1 + the number of
/// fitted tokens sorted strictly before it, unless its score is within 1e-9 of the token just before it, whose rank it
/// then shares. For a fitted token this is exactly its OpenRarity rank.
/// </para>
/// </remarks>
internal sealed class RarityRanking
{
    /// <summary>Relative tolerance under which two scores share a rank (Python's <c>math.isclose</c> default).</summary>
    public const double RelativeTolerance = 1e-9;

    private readonly int[] _unique;      // distinct keys, in rarity order
    private readonly double[] _key;
    private readonly int[] _count;       // fitted tokens with this (unique, key)
    private readonly int[] _rank;
    private readonly long[] _before;     // fitted tokens sorted before this key
    private readonly int[] _bucketEnd;   // for unique count u: keys with unique >= u are [0, _bucketEnd[u])

    private RarityRanking(int[] unique, double[] key, int[] count, double rareQuantile)
    {
        _unique = unique;
        _key = key;
        _count = count;
        int d = key.Length;
        _rank = new int[d];
        _before = new long[d];
        long position = 0;
        for (int i = 0; i < d; i++)
        {
            _before[i] = position;
            _rank[i] = i > 0 && IsClose(key[i], key[i - 1]) ? _rank[i - 1] : checked((int)(position + 1));
            position += count[i];
        }
        TokenCount = checked((int)position);

        int maxUnique = d == 0 ? 0 : unique[0];
        _bucketEnd = new int[maxUnique + 2];
        // Unique counts do not increase along the keys, so one sweep from the largest count down finds every end.
        int end = 0;
        for (int u = maxUnique + 1; u >= 0; u--)
        {
            while (end < d && unique[end] >= u) end++;
            _bucketEnd[u] = end;
        }

        RareQuantile = rareQuantile;
        RareKey = ComputeThreshold(rareQuantile);
    }

    /// <summary>Number of fitted tokens.</summary>
    public int TokenCount { get; }

    /// <summary>The share of the collection labelled rare.</summary>
    public double RareQuantile { get; }

    /// <summary>The rare threshold, in key space (larger is rarer).</summary>
    public double RareKey { get; }

    /// <summary>The distinct unique-trait counts, in rarity order.</summary>
    public ReadOnlySpan<int> DistinctUnique => _unique;

    /// <summary>The distinct keys, in rarity order.</summary>
    public ReadOnlySpan<double> DistinctKeys => _key;

    /// <summary>How many fitted tokens have each distinct (unique count, key).</summary>
    public ReadOnlySpan<int> DistinctCounts => _count;

    /// <summary>Builds the ranking from every fitted token's unique-trait count and key.</summary>
    public static RarityRanking FromTokens(ReadOnlySpan<int> unique, ReadOnlySpan<double> key, double rareQuantile)
    {
        int n = key.Length;
        if (unique.Length != n) throw new ArgumentException("One unique count per key is needed.", nameof(unique));

        // Counting sort by unique count (a handful of values), then a primitive sort of the keys inside each bucket.
        int maxUnique = 0;
        foreach (int u in unique) maxUnique = Math.Max(maxUnique, u);
        var start = new int[maxUnique + 2];
        foreach (int u in unique) start[maxUnique - u + 1]++;  // bucket 0 holds the largest unique count
        for (int b = 1; b < start.Length; b++) start[b] += start[b - 1];
        var sorted = new double[n];
        var fill = (int[])start.Clone();
        for (int i = 0; i < n; i++) sorted[fill[maxUnique - unique[i]]++] = key[i];

        var dUnique = new int[n];
        var dKey = new double[n];
        var dCount = new int[n];
        int d = 0;
        for (int b = 0; b <= maxUnique; b++)
        {
            int lo = start[b], hi = start[b + 1], u = maxUnique - b;
            Array.Sort(sorted, lo, hi - lo);
            for (int i = hi - 1; i >= lo; i--)   // descending
            {
                if (d > 0 && dUnique[d - 1] == u && dKey[d - 1] == sorted[i])
                {
                    dCount[d - 1]++;
                    continue;
                }
                dUnique[d] = u;
                dKey[d] = sorted[i];
                dCount[d++] = 1;
            }
        }
        return new RarityRanking(dUnique[..d], dKey[..d], dCount[..d], rareQuantile);
    }

    /// <summary>
    /// Rebuilds a ranking from stored distinct keys. Returns null and sets <paramref name="problem"/> when they are not
    /// in strict rarity order or a count is not positive.
    /// </summary>
    public static RarityRanking? FromDistinct(int[] unique, double[] key, int[] count, double rareQuantile, out string? problem)
    {
        problem = null;
        if (unique.Length != key.Length || count.Length != key.Length)
            problem = $"the arrays have different lengths ({unique.Length}, {key.Length}, {count.Length})";
        for (int i = 0; problem is null && i < key.Length; i++)
        {
            if (unique[i] < 0) problem = $"entry {i} has a negative unique count {unique[i]}";
            else if (!double.IsFinite(key[i])) problem = $"entry {i} has a score that is not a finite number";
            else if (count[i] <= 0) problem = $"entry {i} has token count {count[i]}; expected at least 1";
            else if (i > 0 && !(unique[i] < unique[i - 1] || (unique[i] == unique[i - 1] && key[i] < key[i - 1])))
                problem = $"entry {i} is not after entry {i - 1} in rarity order";
        }
        return problem is null ? new RarityRanking(unique, key, count, rareQuantile) : null;
    }

    /// <summary>The rank of a row with this unique-trait count and key (1 = rarest).</summary>
    public int Rank(int unique, double key)
    {
        // Keys sorted strictly before the row: every key with a larger unique count, then the keys of the same unique
        // count that are larger.
        int lo = unique + 1 < _bucketEnd.Length ? _bucketEnd[unique + 1] : 0;
        int hi = unique < _bucketEnd.Length ? _bucketEnd[unique] : 0;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_key[mid] > key) lo = mid + 1;
            else hi = mid;
        }
        int p = lo;
        if (p > 0 && IsClose(key, _key[p - 1]))
            return _rank[p - 1];
        long before = p < _key.Length ? _before[p] : TokenCount;
        return checked((int)(before + 1));
    }

    /// <summary>True when a key is at least as rare as the threshold (ties within relative 1e-9 included).</summary>
    public bool IsRare(double key) => key >= RareKey || IsClose(key, RareKey);

    /// <summary>Python's <c>math.isclose(a, b)</c> with its default relative tolerance 1e-9 and no absolute tolerance.</summary>
    public static bool IsClose(double a, double b) =>
        a == b || Math.Abs(a - b) <= RelativeTolerance * Math.Max(Math.Abs(a), Math.Abs(b));

    private double ComputeThreshold(double quantile)
    {
        if (_key.Length == 0) return double.PositiveInfinity;
        // The ⌈q·N⌉-th rarest key, by key alone (the unique-count step of OpenRarity's ranking does not apply).
        // The small relative slack keeps q·N that is an integer in exact arithmetic from rounding up to the next one.
        long k = Math.Clamp((long)Math.Ceiling(quantile * TokenCount * (1 - 1e-12)), 1, TokenCount);
        // Keys descend within each unique count: merge those few runs from the top until k tokens are passed.
        int buckets = _bucketEnd.Length - 1;
        var next = new int[buckets];
        for (int u = 0; u < buckets; u++) next[u] = _bucketEnd[u + 1];
        long seen = 0;
        while (true)
        {
            int best = -1;
            for (int u = 0; u < buckets; u++)
                if (next[u] < _bucketEnd[u] && (best < 0 || _key[next[u]] > _key[next[best]]))
                    best = u;
            int i = next[best]++;
            seen += _count[i];
            if (seen >= k) return _key[i];
        }
    }
}
