using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.DiffNft.Rarity;

namespace DiffNft.Bench;

/// <summary>Options of the rarity benchmark.</summary>
internal sealed class RarityBenchmarkOptions
{
    public int Tokens { get; set; } = 1_000_000;

    public int TraitTypes { get; set; } = 8;

    public int Repeat { get; set; } = 3;

    public int Seed { get; set; } = 42;

    public double ZipfExponent { get; set; } = 1.1;

    public double RareQuantile { get; set; } = 0.05;

    public bool Explain { get; set; }
}

/// <summary>
/// OpenRarity over N tokens × K trait types, through the ML.NET pipeline (fit + transform + reading every output row)
/// and through DuckDB SQL (query + reading every result row), in the same process on the same data; checks that scores
/// agree within 1e-12 relative and ranks and rare flags exactly, and prints the ratio of the median times last.
/// </summary>
internal static class RarityBenchmark
{
    public static int Run(RarityBenchmarkOptions options, TextWriter output)
    {
        output.WriteLine($"rarity benchmark: {options.Tokens:N0} tokens × {options.TraitTypes} trait types, Zipf s = {options.ZipfExponent}, " +
                         $"{Environment.ProcessorCount} cores, .NET {Environment.Version}, repeat {options.Repeat}");

        // Warm up both sides (JIT, DuckDB's first-query costs) on a small collection.
        var warm = ZipfTraitData.Generate(Math.Min(20_000, options.Tokens), options.TraitTypes, options.ZipfExponent, options.Seed + 1);
        RunMlNet(new TraitTableDataView(warm), options.RareQuantile, parallel: true);
        RunMlNet(new TraitTableDataView(warm), options.RareQuantile, parallel: false);
        using (var duck = new DuckDbRarity(warm))
        {
            duck.Load();
            duck.Score(options.RareQuantile);
        }

        var sw = Stopwatch.StartNew();
        var data = ZipfTraitData.Generate(options.Tokens, options.TraitTypes, options.ZipfExponent, options.Seed);
        var view = new TraitTableDataView(data);
        output.WriteLine($"generate: {sw.Elapsed.TotalSeconds:F3} s; peak working set {Mb(Process.GetCurrentProcess().PeakWorkingSet64)}");

        // ML.NET, reading through cursor sets (every core, as DuckDB does), then through one cursor.
        var (mlTimes, fitTimes, allocated, ml) = MeasureMlNet(view, options, parallel: true);
        output.WriteLine($"ml.net ({Environment.ProcessorCount} cursors): fit + transform + read all rows {Seconds(mlTimes)} (fit alone {Seconds(fitTimes)}); " +
                         $"managed allocations {Mb(allocated)} per run; peak working set so far {Mb(Process.GetCurrentProcess().PeakWorkingSet64)}");
        var (singleTimes, singleFitTimes, _, single) = MeasureMlNet(view, options, parallel: false);
        output.WriteLine($"ml.net (1 cursor): fit + transform + read all rows {Seconds(singleTimes)} (fit alone {Seconds(singleFitTimes)})");
        if (!single.Score.AsSpan().SequenceEqual(ml.Score) || !single.Rank.AsSpan().SequenceEqual(ml.Rank))
        {
            output.WriteLine("FAILED: one cursor and several cursors give different results.");
            return 2;
        }

        // DuckDB.
        var duckTimes = new List<double>();
        (double[] Score, int[] Rank, bool[] IsRare) db = ([], [], []);
        long duckMemory;
        using (var duck = new DuckDbRarity(data))
        {
            sw.Restart();
            duck.Load();
            double load = sw.Elapsed.TotalSeconds;
            for (int r = 0; r < options.Repeat; r++)
            {
                Collect();
                sw.Restart();
                db = duck.Score(options.RareQuantile);
                duckTimes.Add(sw.Elapsed.TotalSeconds);
            }
            duckMemory = duck.MemoryBytes();
            if (options.Explain) output.WriteLine(duck.Explain(options.RareQuantile));
            output.WriteLine($"duckdb: query + read all rows {Seconds(duckTimes)} (table load through the appender {load:F3} s, not counted); " +
                             $"DuckDB memory after the query {Mb(duckMemory)}; peak working set {Mb(Process.GetCurrentProcess().PeakWorkingSet64)}");
        }

        // Agreement.
        double maxRel = 0;
        int rankDiff = 0, rareDiff = 0;
        for (int i = 0; i < data.Tokens; i++)
        {
            double a = ml.Score[i], b = db.Score[i];
            double rel = b == 0 ? Math.Abs(a) : Math.Abs(a - b) / Math.Abs(b);
            maxRel = Math.Max(maxRel, rel);
            if (ml.Rank[i] != db.Rank[i]) rankDiff++;
            if (ml.IsRare[i] != db.IsRare[i]) rareDiff++;
        }
        bool agree = maxRel <= 1e-12 && rankDiff == 0 && rareDiff == 0;
        output.WriteLine($"agreement: max relative score difference {maxRel:E2}; ranks differing {rankDiff}; rare flags differing {rareDiff}; " +
                         $"mean score {ml.Score.Average():R}; rare tokens {ml.IsRare.Count(x => x)}");
        if (!agree)
        {
            output.WriteLine("FAILED: ML.NET and DuckDB disagree.");
            return 2;
        }
        double ratio = Median(mlTimes) / Median(duckTimes);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mlnet_single_cursor_over_duckdb={Median(singleTimes) / Median(duckTimes):F3}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mlnet_over_duckdb={ratio:F3}"));
        return 0;
    }

    private static (double Total, double Fit, double[] Score, int[] Rank, bool[] IsRare) RunMlNet(IDataView view, double quantile, bool parallel)
    {
        var sw = Stopwatch.StartNew();
        var mlContext = new MLContext(seed: 1);
        var rarity = mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions
        {
            RareQuantile = quantile,
            UseDoublePrecision = true,
        }).Fit(parallel ? view : new SingleCursorView(view));
        double fit = sw.Elapsed.TotalSeconds;
        var scored = rarity.Transform(view);
        long rows = scored.GetRowCount() ?? 0;
        var score = new double[rows];
        var rank = new int[rows];
        var rare = new bool[rows];
        var columns = new[] { scored.Schema["RarityScore"], scored.Schema["RarityRank"], scored.Schema["IsRare"] };
        var cursors = parallel ? scored.GetRowCursorSet(columns, Environment.ProcessorCount) : [scored.GetRowCursor(columns)];
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var getScore = cursor.GetGetter<double>(columns[0]);
                var getRank = cursor.GetGetter<int>(columns[1]);
                var getRare = cursor.GetGetter<bool>(columns[2]);
                while (cursor.MoveNext())
                {
                    long i = cursor.Position;   // the source's row index: each row is written once
                    getScore(ref score[i]);
                    getRank(ref rank[i]);
                    getRare(ref rare[i]);
                }
            }
        });
        return (sw.Elapsed.TotalSeconds, fit, score, rank, rare);
    }

    private static (List<double> Times, List<double> FitTimes, long Allocated, (double[] Score, int[] Rank, bool[] IsRare) Last) MeasureMlNet(
        IDataView view, RarityBenchmarkOptions options, bool parallel)
    {
        var times = new List<double>();
        var fitTimes = new List<double>();
        long allocated = 0;
        (double[], int[], bool[]) last = ([], [], []);
        for (int r = 0; r < options.Repeat; r++)
        {
            Collect();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var result = RunMlNet(view, options.RareQuantile, parallel);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            times.Add(result.Total);
            fitTimes.Add(result.Fit);
            last = (result.Score, result.Rank, result.IsRare);
        }
        return (times, fitTimes, allocated, last);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static string Seconds(List<double> xs) =>
        string.Create(CultureInfo.InvariantCulture, $"median {Median(xs):F3} s (runs: {string.Join(", ", xs.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))})");

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB");
}

/// <summary>A view that hides its source's ability to split, so that it is read through one cursor.</summary>
internal sealed class SingleCursorView(IDataView source) : IDataView
{
    public bool CanShuffle => source.CanShuffle;

    public DataViewSchema Schema => source.Schema;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        source.GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [source.GetRowCursor(columnsNeeded, rand)];
}
