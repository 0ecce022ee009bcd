using System.Runtime.ExceptionServices;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>Reads a collection once and learns its <see cref="TraitRarityTable"/>.</summary>
/// <remarks>
/// The data is read through as many cursors as the source offers (sources that split, such as cached or text-loaded
/// data, are read in parallel); each reader numbers the values it meets, and the tables are merged afterwards with the
/// values in ordinal order, so the result does not depend on how the rows were split.
/// </remarks>
internal static class TraitRarityFitter
{
    public static TraitRarityTable Fit(IHost host, IDataView data, TraitColumn[] columns, TraitRarityOptions options)
    {
        int k = columns.Length;
        var inputColumns = columns.Select(c => data.Schema[c.ColumnName]).ToArray();
        var cursors = data.GetRowCursorSet(inputColumns, Math.Max(1, Environment.ProcessorCount));
        long expected = data.GetRowCount() ?? 1024;
        var readers = cursors.Select(c => new Reader(c, inputColumns, (int)Math.Min(expected / cursors.Length + 1, 1 << 24))).ToArray();
        try
        {
            ForEach(readers, r => r.Run());
        }
        finally
        {
            foreach (var c in cursors) c.Dispose();
        }
        long rows = readers.Sum(r => r.Rows);
        if (rows == 0)
            throw host.Process(new InvalidOperationException("Cannot fit trait rarity: the training data has no rows."));
        if (rows > int.MaxValue)
            throw host.Process(new InvalidOperationException($"Trait rarity fits at most {int.MaxValue} tokens; the data has {rows}."));
        int n = (int)rows;

        // Merge the readers' value tables: every trait's distinct values in ordinal order, counts added up, and for each
        // reader a map from its local value ids to the merged ones. OpenRarity knows only the trait types that occur: a
        // column in which no token has a value is left out.
        var traits = new List<TraitFrequency>();
        var kept = new List<int>();
        var maps = new int[readers.Length][][];
        for (int w = 0; w < readers.Length; w++) maps[w] = new int[k][];
        for (int j = 0; j < k; j++)
        {
            var values = readers.SelectMany(r => r.Indexes[j].Values).Distinct(StringComparer.Ordinal).ToArray();
            if (values.Length == 0)
            {
                using var ch = host.Start("Fit");
                ch.Warning(MessageSensitivity.None, $"Trait column '{columns[j].ColumnName}' has no values in the fitted collection; it is not scored.");
                continue;
            }
            Array.Sort(values, StringComparer.Ordinal);
            var index = new TraitValueIndex();
            foreach (string v in values) index.Add(v);
            var counts = new int[values.Length];
            long present = 0;
            for (int w = 0; w < readers.Length; w++)
            {
                var local = readers[w].Indexes[j];
                var map = maps[w][j] = new int[local.Count];
                for (int id = 0; id < local.Count; id++)
                {
                    map[id] = index.Find(local.Values[id]);
                    counts[map[id]] += readers[w].Counts[j][id];
                    present += readers[w].Counts[j][id];
                }
            }
            kept.Add(j);
            traits.Add(new TraitFrequency(columns[j].ColumnName, columns[j].TraitType, columns[j].IsNumeric, index, counts, (int)(n - present)));
        }
        if (kept.Count == 0)
            throw host.Process(new InvalidOperationException(
                $"Cannot fit trait rarity: no token has a value in any trait column ({string.Join(", ", columns.Select(c => c.ColumnName))})."));

        // Each reader's rows as scorer slots (in place: row r's slots overwrite its ids, which are read first), and the
        // trait-count table.
        int kk = kept.Count;
        var countedAsTrait = traits.Select(t => t.Values.Select(v => TraitText.CountsAsTrait(v)).ToArray()).ToArray();
        var traitCountCounts = new int[kk + 1];
        ForEach(readers, reader =>
        {
            var ids = reader.Ids;
            var map = maps[Array.IndexOf(readers, reader)];
            var local = new int[kk + 1];
            for (long r = 0; r < reader.Rows; r++)
            {
                int present = 0;
                for (int i = 0; i < kk; i++)
                {
                    int id = ids[r * k + kept[i]];
                    int slot = id < 0 ? traits[i].Values.Count : map[kept[i]][id];
                    if (id >= 0 && countedAsTrait[i][slot]) present++;
                    ids[r * kk + i] = slot;
                }
                local[present]++;
            }
            lock (traitCountCounts)
                for (int c = 0; c <= kk; c++) traitCountCounts[c] += local[c];
        });

        // Score every fitted token, then order them.
        var scorer = new RarityScorer(options.Method, n, traits, options.IncludeTraitCount ? traitCountCounts : null);
        var unique = new int[n];
        var keys = new double[n];
        var offsets = new long[readers.Length];
        for (int w = 1; w < readers.Length; w++) offsets[w] = offsets[w - 1] + readers[w - 1].Rows;
        bool useUnique = options.Method == RarityMethod.OpenRarity;
        ForEach(readers, reader =>
        {
            long offset = offsets[Array.IndexOf(readers, reader)];
            for (long r = 0; r < reader.Rows; r++)
            {
                double score = scorer.Score(reader.Ids.AsSpan((int)(r * kk), kk), out int u, out _);
                unique[offset + r] = useUnique ? u : 0;
                keys[offset + r] = scorer.Key(score);
            }
        });
        var ranking = RarityRanking.FromTokens(unique, keys, options.RareQuantile);
        var table = new TraitRarityTable(options.Method, n, traits, options.IncludeTraitCount ? traitCountCounts : null, scorer, ranking);

        using (var ch = host.Start("Fit"))
            ch.Info(MessageSensitivity.None, $"Trait rarity ({options.Method}): {n} tokens, {kk} trait types, entropy {table.Entropy:R} bits, " +
                    $"rare threshold {table.RareThreshold:R} (top {options.RareQuantile:P1}).");
        return table;
    }

    /// <summary>Runs <paramref name="action"/> on every reader, in parallel when there are several, rethrowing a single failure as itself.</summary>
    private static void ForEach(Reader[] readers, Action<Reader> action)
    {
        if (readers.Length == 1)
        {
            action(readers[0]);
            return;
        }
        try
        {
            Parallel.ForEach(readers, action);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>
    /// Reads one cursor: numbers the normalised values of each trait (allocating a string only for a value it has not met
    /// before), counts them, and keeps each row's value ids (-1 = the token lacks the trait), row after row.
    /// </summary>
    private sealed class Reader
    {
        private readonly DataViewRowCursor _cursor;
        private readonly DataViewSchema.Column[] _columns;

        public Reader(DataViewRowCursor cursor, DataViewSchema.Column[] columns, int expectedRows)
        {
            _cursor = cursor;
            _columns = columns;
            int k = columns.Length;
            Indexes = new TraitValueIndex[k];
            Counts = new int[k][];
            for (int j = 0; j < k; j++)
            {
                Indexes[j] = new TraitValueIndex();
                Counts[j] = new int[16];
            }
            Ids = new int[Math.Max(16, (long)k * expectedRows)];
        }

        public TraitValueIndex[] Indexes { get; }

        public int[][] Counts { get; }

        public int[] Ids { get; private set; }

        public long Rows { get; private set; }

        public void Run()
        {
            int k = _columns.Length;
            var getters = _columns.Select(c => _cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
            var value = default(ReadOnlyMemory<char>);
            var buffer = new char[TraitText.BufferLength];
            var ids = Ids;
            long rows = 0;
            while (_cursor.MoveNext())
            {
                long offset = rows * k;
                if (offset + k > ids.Length)
                {
                    if (offset + k > Array.MaxLength)
                        throw new InvalidOperationException($"Trait rarity keeps {k} value ids per token in one array; more than {Array.MaxLength / k} tokens do not fit.");
                    Array.Resize(ref ids, (int)Math.Min(Array.MaxLength, Math.Max(offset + k, 2L * ids.Length)));
                }
                for (int j = 0; j < k; j++)
                {
                    getters[j](ref value);
                    var raw = value.Span;
                    int id = -1;
                    if (!raw.IsEmpty)
                    {
                        if (raw.Length > buffer.Length) buffer = new char[raw.Length];
                        id = Indexes[j].GetOrAdd(TraitText.Normalize(raw, buffer));
                        var counts = Counts[j];
                        if (id >= counts.Length) Array.Resize(ref Counts[j], counts.Length * 2);
                        Counts[j][id]++;
                    }
                    ids[offset + j] = id;
                }
                rows++;
            }
            Ids = ids;
            Rows = rows;
        }
    }
}
