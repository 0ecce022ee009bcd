using System.Globalization;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Generates a layered NFT collection from the Nouns parts, the way HashLips-style art engines do — per-layer weights,
/// incompatible and forced pairs, unique DNA, exact counts — but reproducibly (seeded) and without their capacity
/// trap: the exact number of valid combinations is computed first, and near that limit the generator draws from the
/// list of unused combinations instead of failing after a fixed number of "DNA exists" retries.
/// </summary>
/// <remarks>
/// Each token draws every layer independently from its distribution (in draw order, one <see cref="Random"/> seeded
/// with <see cref="NounsCollectionOptions.Seed"/>), then applies the forced pairs (a token that drew A gets B) and is
/// redrawn when it breaks an incompatible pair or repeats an earlier token. Exact-count layers are not drawn: their
/// values are dealt from a shuffled column holding each part exactly its count, and a token that breaks a rule swaps
/// its dealt value with another token's, so the counts stay exact.
/// </remarks>
public static class NounsCollectionGenerator
{
    /// <summary>The largest raw part space (product of allowed parts per layer) listed in full when draws keep failing.</summary>
    internal const long EnumerationLimit = 4_000_000;

    /// <summary>
    /// The number of distinct combinations of the allowed parts that satisfy the options' rules (the largest unique
    /// collection possible). Throws <see cref="ArgumentException"/> for invalid options.
    /// </summary>
    public static long CountCombinations(NounsCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new NounsRules(options.Art ?? NounsArt.Default, options).CountValid();
    }

    /// <summary>Generates the collection. Throws <see cref="ArgumentException"/> for invalid options and
    /// <see cref="InvalidOperationException"/> when the options cannot be satisfied (with the number of combinations).</summary>
    /// <param name="options">What to generate.</param>
    /// <param name="cancellationToken">Stops between tokens.</param>
    public static NftCollection Generate(NounsCollectionOptions options, CancellationToken cancellationToken = default) =>
        GenerateDetailed(options, cancellationToken).Collection;

    /// <summary>The collection with what made it: the seeds, the parts allowed and the combinations possible.</summary>
    internal static NounsGeneratedCollection GenerateDetailed(NounsCollectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Count < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Count, "The collection size (Count) must be at least 1.");
        if (options.MaxAttemptsPerToken < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxAttemptsPerToken, "MaxAttemptsPerToken must be at least 1.");
        if (options.ImageScale < 1 || options.ImageScale > NounsCollectionOptions.MaxImageScale)
            throw new ArgumentOutOfRangeException(nameof(options), options.ImageScale, $"ImageScale must lie in 1 … {NounsCollectionOptions.MaxImageScale}.");
        ArgumentNullException.ThrowIfNull(options.NamePrefix, nameof(options.NamePrefix));
        var art = options.Art ?? NounsArt.Default;
        var rules = new NounsRules(art, options);
        long combinations = rules.CountValid();
        CheckFeasible(options, rules, combinations);

        var seeds = new Sampler(options, rules, art).Run(cancellationToken);

        var tokens = new NftToken[seeds.Length];
        ParallelLoop.For(seeds.Length, i =>
        {
            var image = options.RenderImages ? NounsRenderer.Render(seeds[i], art) : null;
            if (image is not null && options.ImageScale > 1) image = image.ScaleNearest(options.ImageScale);
            tokens[i] = NounsMetadata.CreateToken(i.ToString(CultureInfo.InvariantCulture), seeds[i], art, image, options.NamePrefix);
        }, cancellationToken);
        var subset = options.Parts ?? NounsSubset.All;
        return new NounsGeneratedCollection(art, subset, seeds, new NftCollection(tokens, "nouns"), combinations, rules.Probabilities);
    }

    private static void CheckFeasible(NounsCollectionOptions options, NounsRules rules, long combinations)
    {
        if (combinations == 0)
            throw new InvalidOperationException(
                $"No combination of the chosen parts ({rules.DescribeSubset()}) satisfies the incompatible and forced pairs.");
        if (options.UniqueDna && options.Count > combinations)
            throw new InvalidOperationException(
                $"Cannot make {options.Count:N0} unique Nouns: only {combinations:N0} combinations of the chosen parts ({rules.DescribeSubset()}) satisfy the rules. Lower the count, allow more parts, or drop rules.");

        foreach (var layer in NounsLayers.DrawOrder)
        {
            var weights = options.WeightsFor(layer);
            if (weights.Kind != NounsWeighting.ExactCounts) continue;
            var counts = weights.Counts!;
            long sum = counts.Sum(c => (long)c);
            if (sum != options.Count)
                throw new ArgumentException(
                    $"{NounsLayers.TraitType(layer)} exact counts sum to {sum:N0}, but the collection has {options.Count:N0} tokens; they must be equal.");
            for (int k = 0; k < counts.Count; k++)
            {
                if (counts[k] == 0) continue;
                var part = new NounsPartRef(layer, k);
                long with = rules.CountValid(part);
                if (with == 0)
                    throw new InvalidOperationException(
                        $"Exact counts ask for {counts[k]:N0} tokens with {rules.Name(part)}, but the rules allow no token with it.");
                if (options.UniqueDna && counts[k] > with)
                    throw new InvalidOperationException(
                        $"Exact counts ask for {counts[k]:N0} tokens with {rules.Name(part)}, but only {with:N0} unique combinations contain it.");
            }
        }
    }

    /// <summary>The drawing loop of one generation run.</summary>
    private sealed class Sampler
    {
        private readonly NounsCollectionOptions _options;
        private readonly NounsRules _rules;
        private readonly NounsArt _art;
        private readonly Random _rng;
        private readonly int _count;
        private readonly double[]?[] _cumulative = new double[]?[NounsLayers.Count]; // null for exact-count layers
        private readonly int[]?[] _columns = new int[]?[NounsLayers.Count];           // dealt values of exact-count layers
        private readonly bool[] _fixed = new bool[NounsLayers.Count];
        private readonly int[] _exactLayers;
        private readonly int[][] _seeds;
        private readonly HashSet<long> _used = [];

        public Sampler(NounsCollectionOptions options, NounsRules rules, NounsArt art)
        {
            _options = options;
            _rules = rules;
            _art = art;
            _rng = new Random(options.Seed);
            _count = options.Count;
            _seeds = new int[_count][];
            var exact = new List<int>();
            foreach (var layer in NounsLayers.DrawOrder)
            {
                int l = (int)layer;
                var weights = options.WeightsFor(layer);
                if (weights.Kind == NounsWeighting.ExactCounts)
                {
                    var column = new int[_count];
                    int at = 0;
                    for (int k = 0; k < weights.Counts!.Count; k++)
                        for (int c = 0; c < weights.Counts[k]; c++) column[at++] = k;
                    _rng.Shuffle(column);
                    _columns[l] = column;
                    _fixed[l] = true;
                    exact.Add(l);
                }
                else
                {
                    var p = rules.Probabilities[l];
                    var cumulative = new double[p.Length];
                    double sum = 0;
                    for (int k = 0; k < p.Length; k++) cumulative[k] = sum += p[k];
                    _cumulative[l] = cumulative;
                }
            }
            _exactLayers = [.. exact];
        }

        public NounSeed[] Run(CancellationToken cancellationToken)
        {
            Span<int> parts = stackalloc int[NounsLayers.Count];
            for (int i = 0; i < _count; i++)
            {
                if ((i & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
                int attempts = 0;
                while (true)
                {
                    Draw(i, parts);
                    if (_rules.ApplyForced(parts, _fixed) && _rules.IsValid(parts) && (!_options.UniqueDna || !_used.Contains(Dna(parts))))
                        break;
                    attempts++;
                    if (attempts >= _options.MaxAttemptsPerToken)
                    {
                        if (CanEnumerate())
                        {
                            DrawRemainingFromList(i);
                            return Finish();
                        }
                        throw new InvalidOperationException(
                            $"Token {i}: no valid{(_options.UniqueDna ? ", unused" : "")} combination found in {attempts:N0} draws in a row " +
                            $"({_rules.CountValid():N0} combinations of {_rules.DescribeSubset()} satisfy the rules; {_used.Count:N0} are used). " +
                            "The weights or exact counts concentrate on combinations the rules or earlier tokens exclude; lower the count, flatten the weights, or relax the rules.");
                    }
                    // Exact-count layers cannot be redrawn; move a different dealt value into this token instead.
                    if (_exactLayers.Length > 0 && (_exactLayers.Length == NounsLayers.Count || (attempts & 1) == 1))
                        TrySwap(i);
                }
                _seeds[i] = parts.ToArray();
                if (_options.UniqueDna) _used.Add(Dna(parts));
            }
            return Finish();
        }

        private NounSeed[] Finish() => [.. _seeds.Select(s => NounSeed.FromIndices(s))];

        private void Draw(int i, Span<int> parts)
        {
            for (int l = 0; l < NounsLayers.Count; l++)
            {
                if (_columns[l] is { } column)
                {
                    parts[l] = column[i];
                    continue;
                }
                var cumulative = _cumulative[l]!;
                double u = _rng.NextDouble() * cumulative[^1];
                // The first part whose cumulative weight exceeds u (zero-weight parts never qualify).
                int lo = 0, hi = cumulative.Length - 1;
                while (lo < hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (cumulative[mid] > u) hi = mid;
                    else lo = mid + 1;
                }
                int k = lo;
                parts[l] = k;
            }
        }

        private void TrySwap(int i)
        {
            if (_count < 2) return;
            int l = _exactLayers[_rng.Next(_exactLayers.Length)];
            int j = _rng.Next(_count - 1);
            if (j >= i) j++;
            var column = _columns[l]!;
            if (column[i] == column[j]) return;
            if (j > i)
            {
                (column[i], column[j]) = (column[j], column[i]);
                return;
            }
            // Token j is already final: the swap must keep it valid and unique.
            var moved = (int[])_seeds[j].Clone();
            moved[l] = column[i];
            if (!_rules.IsValid(moved)) return;
            if (_options.UniqueDna)
            {
                long newDna = Dna(moved);
                if (_used.Contains(newDna)) return;
                _used.Remove(Dna(_seeds[j]));
                _used.Add(newDna);
            }
            _seeds[j] = moved;
            (column[i], column[j]) = (column[j], column[i]);
        }

        private bool CanEnumerate()
        {
            if (!_options.UniqueDna || _exactLayers.Length > 0) return false;
            long raw = 1;
            foreach (int size in _rules.SubsetSizes) raw *= size;
            return raw <= EnumerationLimit;
        }

        /// <summary>
        /// Lists every unused valid combination with its probability under the weights (the chance that a draw plus
        /// the forced pairs lands on it) and takes the remaining tokens by weighted sampling without replacement
        /// (Efraimidis–Spirakis keys) — the same distribution as redrawing duplicates, without the endless retries.
        /// </summary>
        private void DrawRemainingFromList(int start)
        {
            int needed = _count - start;
            var sizes = _rules.SubsetSizes;
            var stride = new long[NounsLayers.Count];
            long space = 1;
            for (int l = NounsLayers.Count - 1; l >= 0; l--)
            {
                stride[l] = space;
                space *= sizes[l];
            }
            // Probability mass of every final combination (index in the subset's mixed radix), pushed through the
            // forced pairs: a flat array, since the space is at most EnumerationLimit entries.
            var mass = new double[space];
            Span<int> parts = stackalloc int[NounsLayers.Count];
            Span<int> raw = stackalloc int[NounsLayers.Count];
            Span<bool> none = stackalloc bool[NounsLayers.Count];
            none.Clear();
            raw.Clear();
            while (true)
            {
                double p = 1;
                for (int l = 0; l < NounsLayers.Count; l++) p *= _rules.Probabilities[l][raw[l]];
                if (p > 0)
                {
                    raw.CopyTo(parts);
                    if (_rules.ApplyForced(parts, none) && _rules.IsValid(parts) && !_used.Contains(Dna(parts)))
                    {
                        long index = 0;
                        for (int l = 0; l < NounsLayers.Count; l++) index += parts[l] * stride[l];
                        mass[index] += p;
                    }
                }
                int layer = NounsLayers.Count - 1;
                while (layer >= 0 && ++raw[layer] == sizes[layer]) raw[layer--] = 0;
                if (layer < 0) break;
            }

            // Efraimidis–Spirakis: key ln(u)/w; the `needed` largest keys are a weighted sample without replacement, and
            // sorted by key they come in the order sequential draws would pick them. Keep them in a min-heap.
            var heap = new PriorityQueue<long, (double Key, long Index)>(needed + 1,
                Comparer<(double Key, long Index)>.Create((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : b.Index.CompareTo(a.Index)));
            long available = 0;
            for (long index = 0; index < space; index++)
            {
                if (mass[index] <= 0) continue;
                available++;
                var key = (Math.Log(1 - _rng.NextDouble()) / mass[index], index);
                if (heap.Count < needed) heap.Enqueue(index, key);
                else if (heap.TryPeek(out _, out var smallest) && heap.Comparer.Compare(key, smallest) > 0) heap.EnqueueDequeue(index, key);
            }
            if (available < needed)
                throw new InvalidOperationException(
                    $"Only {start + available:N0} unique Nouns can be drawn with these weights and rules ({_rules.DescribeSubset()}); {_count:N0} were asked for.");

            var picked = new long[needed];
            for (int n = needed - 1; n >= 0; n--) picked[n] = heap.Dequeue(); // smallest key first → fill from the back
            foreach (long index in picked)
            {
                var seed = new int[NounsLayers.Count];
                for (int l = 0; l < NounsLayers.Count; l++) seed[l] = (int)(index / stride[l] % sizes[l]);
                _seeds[start++] = seed;
                _used.Add(Dna(seed));
            }
        }

        private long Dna(ReadOnlySpan<int> parts)
        {
            long dna = 0;
            for (int l = 0; l < NounsLayers.Count; l++) dna = dna * _art.PartCount((NounsLayer)l) + parts[l];
            return dna;
        }
    }
}
