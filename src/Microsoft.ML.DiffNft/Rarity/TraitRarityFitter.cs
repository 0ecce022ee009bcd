using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>Reads a collection once and learns its <see cref="TraitRarityTable"/>.</summary>
internal static class TraitRarityFitter
{
    public static TraitRarityTable Fit(IHost host, IDataView data, TraitColumn[] columns, TraitRarityOptions options)
    {
        int k = columns.Length;
        var indexes = new TraitValueIndex[k];
        var counts = new int[k][];
        for (int j = 0; j < k; j++)
        {
            indexes[j] = new TraitValueIndex();
            counts[j] = new int[16];
        }

        // One pass: number the normalised values of each trait (allocating a string only for a value never seen before),
        // count them, and keep each row's value ids to score the fitted tokens afterwards. -1 = the token lacks the trait.
        var ids = new int[Math.Max(16, k * (int)Math.Min(data.GetRowCount() ?? 1024, 1 << 24))];
        long rows = 0;
        var inputColumns = columns.Select(c => data.Schema[c.ColumnName]).ToArray();
        using (var cursor = data.GetRowCursor(inputColumns))
        {
            var getters = inputColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
            var value = default(ReadOnlyMemory<char>);
            var buffer = new char[TraitText.StackLimit];
            while (cursor.MoveNext())
            {
                if (rows >= int.MaxValue)
                    throw host.Process(new InvalidOperationException($"Trait rarity fits at most {int.MaxValue} tokens."));
                long offset = rows * k;
                if (offset + k > ids.Length)
                    Array.Resize(ref ids, (int)Math.Min(Array.MaxLength, Math.Max(offset + k, 2L * ids.Length)));
                for (int j = 0; j < k; j++)
                {
                    getters[j](ref value);
                    var raw = value.Span;
                    int id = -1;
                    if (!raw.IsEmpty)
                    {
                        if (raw.Length > buffer.Length) buffer = new char[raw.Length];
                        id = indexes[j].GetOrAdd(TraitText.Normalize(raw, buffer));
                        if (id >= counts[j].Length) Array.Resize(ref counts[j], counts[j].Length * 2);
                        counts[j][id]++;
                    }
                    ids[offset + j] = id;
                }
                rows++;
            }
        }
        if (rows == 0)
            throw host.Process(new InvalidOperationException("Cannot fit trait rarity: the training data has no rows."));
        int n = (int)rows;

        // OpenRarity knows only the trait types that occur: a column that no token has a value in is left out.
        var kept = new List<int>();
        for (int j = 0; j < k; j++)
        {
            if (indexes[j].Count > 0) kept.Add(j);
            else
                using (var ch = host.Start("Fit"))
                    ch.Warning(MessageSensitivity.None, $"Trait column '{columns[j].ColumnName}' has no values in the fitted collection; it is not scored.");
        }
        if (kept.Count == 0)
            throw host.Process(new InvalidOperationException(
                $"Cannot fit trait rarity: no token has a value in any trait column ({string.Join(", ", columns.Select(c => c.ColumnName))})."));

        var traits = new TraitFrequency[kept.Count];
        for (int i = 0; i < kept.Count; i++)
        {
            int j = kept[i];
            int v = indexes[j].Count;
            var c = counts[j].AsSpan(0, v).ToArray();
            long present = 0;
            foreach (int x in c) present += x;
            traits[i] = new TraitFrequency(columns[j].ColumnName, columns[j].TraitType, columns[j].IsNumeric, indexes[j], c, (int)(n - present));
        }

        // Slots of every fitted token, then the trait-count table, then scores and ranking.
        int kk = kept.Count;
        // In place when every column was kept (the usual case): row r's slots overwrite its ids, which are read first.
        var slots = kk == k ? ids : new int[(long)n * kk];
        var traitCountCounts = new int[kk + 1];
        for (int r = 0; r < n; r++)
        {
            int present = 0;
            for (int i = 0; i < kk; i++)
            {
                int id = ids[(long)r * k + kept[i]];
                slots[(long)r * kk + i] = id < 0 ? traits[i].Values.Count : id;
                if (id >= 0 && TraitText.CountsAsTrait(traits[i].Values[id])) present++;
            }
            traitCountCounts[present]++;
        }

        var scorer = new RarityScorer(options.Method, n, traits, options.IncludeTraitCount ? traitCountCounts : null);
        var unique = new int[n];
        var keys = new double[n];
        bool useUnique = options.Method == RarityMethod.OpenRarity;
        for (int r = 0; r < n; r++)
        {
            double score = scorer.Score(slots.AsSpan(r * kk, kk), out int u, out _);
            unique[r] = useUnique ? u : 0;
            keys[r] = scorer.Key(score);
        }
        var ranking = RarityRanking.FromTokens(unique, keys, options.RareQuantile);
        var table = new TraitRarityTable(options.Method, n, traits, options.IncludeTraitCount ? traitCountCounts : null, scorer, ranking);

        using (var ch = host.Start("Fit"))
            ch.Info(MessageSensitivity.None, $"Trait rarity ({options.Method}): {n} tokens, {kk} trait types, entropy {table.Entropy:R} bits, " +
                    $"rare threshold {table.RareThreshold:R} (top {options.RareQuantile:P1}).");
        return table;
    }
}
