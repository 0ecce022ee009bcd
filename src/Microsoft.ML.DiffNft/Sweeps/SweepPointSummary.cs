using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>
/// A metric over a grid point's repeats: the mean, and the standard error of the mean (sample standard deviation / √n;
/// null for a single value, which says nothing about the spread between fine-tuning runs).
/// </summary>
/// <param name="Mean">The mean over the repeats that have the metric; null when none has it.</param>
/// <param name="StandardError">s / √n with the n − 1 sample standard deviation; null when fewer than 2 repeats have the metric.</param>
/// <param name="Count">How many repeats have the metric.</param>
public readonly record struct MeanWithError(double? Mean, double? StandardError, int Count)
{
    /// <summary>The mean and standard error of the finite values among <paramref name="values"/> (nulls and NaNs are left out).</summary>
    public static MeanWithError Of(IEnumerable<double?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var x = values.Where(v => v is { } d && double.IsFinite(d)).Select(v => v!.Value).ToArray();
        if (x.Length == 0) return new MeanWithError(null, null, 0);
        double mean = x.Average();
        if (x.Length == 1) return new MeanWithError(mean, null, 1);
        double variance = x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
        return new MeanWithError(mean, Math.Sqrt(variance / x.Length), x.Length);
    }
}

/// <summary>
/// One grid point of a sweep — a (w_rarity, w_fidelity, β) — summarised over its repeats. Single fine-tuning runs differ
/// by their seed as much as neighbouring weights differ by their weight (docs/sweeps.md measures it), so a claim such as
/// "the rare rate rises with the rarity weight" should rest on these means and their standard errors.
/// </summary>
/// <param name="RarityWeight">w_rarity.</param>
/// <param name="FidelityWeight">w_fidelity.</param>
/// <param name="KlWeight">β.</param>
/// <param name="Repeats">How many finished trials (repeats) the point has.</param>
/// <param name="RareRate">rare_rate over the repeats.</param>
/// <param name="FidResNet18">fid_resnet18 over the repeats.</param>
/// <param name="RarityScore">rarity_score over the repeats.</param>
/// <param name="DecodableRate">decodable_rate over the repeats.</param>
/// <param name="DuplicateRate">duplicate_rate over the repeats.</param>
public sealed record SweepPointSummary(double RarityWeight, double FidelityWeight, double KlWeight, int Repeats,
    MeanWithError RareRate, MeanWithError FidResNet18, MeanWithError RarityScore, MeanWithError DecodableRate, MeanWithError DuplicateRate)
{
    /// <summary>The metrics a summary carries, in the order of <see cref="Metrics"/> and of <c>summary.csv</c>'s columns.</summary>
    private static readonly string[] MetricNames = ["rare_rate", "fid_resnet18", "rarity_score", "decodable_rate", "duplicate_rate"];

    /// <summary>The header of <c>summary.csv</c>: the weights, the repeat count, then mean and standard error (<c>_se</c>) of each metric.</summary>
    public static string CsvHeader { get; } =
        "rarity_weight,fidelity_weight,kl_weight,repeats," + string.Join(",", MetricNames.Select(n => $"{n},{n}_se"));

    /// <summary>The metrics by their <c>metrics.json</c> names: rare_rate, fid_resnet18, rarity_score, decodable_rate, duplicate_rate.</summary>
    public IReadOnlyList<KeyValuePair<string, MeanWithError>> Metrics =>
        MetricNames.Zip(new[] { RareRate, FidResNet18, RarityScore, DecodableRate, DuplicateRate }, KeyValuePair.Create).ToList();

    /// <summary>Groups finished trials by grid point, in the order the points first appear.</summary>
    public static IReadOnlyList<SweepPointSummary> Summarise(IEnumerable<SweepTrialResult> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return trials
            .GroupBy(t => t.Trial with { Repeat = 0 })
            .Select(g =>
            {
                var m = g.Select(t => t.Metrics).ToList();
                MeanWithError Of(Func<NftGenerationMetrics, double?> f) => MeanWithError.Of(m.Select(f));
                return new SweepPointSummary(g.Key.RarityWeight, g.Key.FidelityWeight, g.Key.KlWeight, m.Count,
                    Of(x => x.RareRate), Of(x => x.FidResNet18), Of(x => x.RarityScore), Of(x => x.DecodableRate), Of(x => x.DuplicateRate));
            })
            .ToList();
    }

    /// <summary>Writes <c>summary.csv</c> atomically: <see cref="CsvHeader"/>, one row per point; empty cells for null values.</summary>
    public static void WriteCsv(string path, IReadOnlyList<SweepPointSummary> points)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(points);
        static string N(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "";
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var p in points)
        {
            sb.AppendJoin(',', N(p.RarityWeight), N(p.FidelityWeight), N(p.KlWeight), p.Repeats.ToString(CultureInfo.InvariantCulture));
            foreach (var (_, e) in p.Metrics)
                sb.Append(',').Append(N(e.Mean)).Append(',').Append(N(e.StandardError));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
