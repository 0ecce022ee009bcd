using System.Globalization;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>The report's two plots as inline SVG: fidelity against rarity, and the rarity-score histograms.</summary>
internal static class ReportPlots
{
    /// <summary>Colours of the plots (the headless-browser test looks for them in a screenshot).</summary>
    internal const string TrialColor = "#1f77b4", ParetoColor = "#d62728", BaseColor = "#7f7f7f", TunedColor = "#2ca02c", ReferenceColor = "#9467bd";

    /// <summary>
    /// FID-ResNet18 (x, lower is closer to the reference) against rare rate (y): every trial, the base and the tuned
    /// model, each labelled, with the Pareto front as a line. Null when no point has both numbers.
    /// </summary>
    public static string? FidelityRarity(NftReport report)
    {
        var points = new List<(double Fid, double Rare, string Label, string Color, string Shape)>();
        if (report.Base is { RareRate: { } br } b && double.IsFinite(b.FidResNet18)) points.Add((b.FidResNet18, br, "base", BaseColor, "square"));
        foreach (var t in report.Trials)
            if (t.Metrics.RareRate is { } r && double.IsFinite(t.Metrics.FidResNet18))
                points.Add((t.Metrics.FidResNet18, r, t.Id, t.OnParetoFront ? ParetoColor : TrialColor, "circle"));
        // The tuned model is drawn on its own only when it is not one of the trials.
        if (report.Tuned is { RareRate: { } tr } tuned && double.IsFinite(tuned.FidResNet18) && !report.Trials.Any(t => ReferenceEquals(t.Metrics, tuned)))
            points.Add((tuned.FidResNet18, tr, report.TunedName, TunedColor, "square"));
        if (points.Count == 0) return null;

        var chart = new SvgChart(720, 460, "Fidelity vs rarity", "FID-ResNet18 (lower is closer to the reference)", "rare_rate");
        chart.SetRanges(points.Min(p => p.Fid), points.Max(p => p.Fid), Math.Min(0, points.Min(p => p.Rare)), points.Max(p => p.Rare));
        var front = report.Trials.Where(t => t.OnParetoFront && t.Metrics.RareRate is not null)
            .Select(t => (t.Metrics.FidResNet18, t.Metrics.RareRate!.Value)).OrderBy(p => p.Item1).ThenByDescending(p => p.Item2).ToList();
        chart.Line(front, ParetoColor, 2, dashed: true);
        foreach (var (fid, rare, label, color, shape) in points)
        {
            chart.Point(fid, rare, color, 6, string.Create(CultureInfo.InvariantCulture, $"{label}: FID {fid:F3}, rare_rate {rare:F4}"), shape);
            chart.Label(fid, rare, label);
        }
        if (report.Trials.Count > 0)
        {
            chart.Legend("trial", TrialColor);
            chart.Legend("Pareto front", ParetoColor, line: true);
        }
        if (report.Base?.RareRate is not null) chart.Legend("base", BaseColor);
        return chart.Render();
    }

    /// <summary>
    /// Overlaid histograms of the rarity scores of the reference tokens and of the base's and tuned model's decodable
    /// images, as shares of each set per bin (the sets differ in size), with the rare threshold. Null without scores.
    /// </summary>
    public static string? RarityHistograms(NftReport report)
    {
        var series = new List<(string Name, IReadOnlyList<double> Scores, string Color)>();
        if (report.EffectiveReferenceScores is { Count: > 0 } r) series.Add(("reference", r, ReferenceColor));
        if (report.Base?.RarityScores is { Count: > 0 } b) series.Add(("base", b, BaseColor));
        if (report.Tuned?.RarityScores is { Count: > 0 } t) series.Add((report.TunedName, t, TunedColor));
        var finite = series.SelectMany(s => s.Scores).Where(double.IsFinite).ToList();
        if (finite.Count == 0) return null;

        double threshold = report.EffectiveRareThreshold ?? double.NaN;
        double min = finite.Min(), max = finite.Max();
        if (double.IsFinite(threshold)) { min = Math.Min(min, threshold); max = Math.Max(max, threshold); }
        var edges = Histogram.Edges(min, max, 30);
        var heights = series.Select(s => Histogram.Shares(s.Scores, edges)).ToList();
        var chart = new SvgChart(720, 400, "Rarity scores", "OpenRarity score (against the reference's trait frequencies)", "share of images per bin");
        chart.SetRanges(edges[0], edges[^1], 0, heights.SelectMany(h => h).DefaultIfEmpty(0).Max(), yFromZero: true);
        for (int i = 0; i < series.Count; i++)
        {
            chart.Steps(edges, heights[i], series[i].Color);
            chart.Legend(string.Create(CultureInfo.InvariantCulture, $"{series[i].Name} ({series[i].Scores.Count})"), series[i].Color);
        }
        if (double.IsFinite(threshold))
            chart.VerticalLine(threshold, "#000000", string.Create(CultureInfo.InvariantCulture, $"rare ≥ {threshold:F3}"));
        return chart.Render();
    }
}

/// <summary>Equal-width histogram bins.</summary>
internal static class Histogram
{
    /// <summary><paramref name="bins"/> + 1 equally spaced edges from min to max (a unit-wide range around an empty one).</summary>
    public static double[] Edges(double min, double max, int bins)
    {
        if (max - min < 1e-12) { min -= 0.5; max += 0.5; }
        return Enumerable.Range(0, bins + 1).Select(i => i == bins ? max : min + (max - min) * i / bins).ToArray();
    }

    /// <summary>The share of the finite values in each bin; the last bin includes its upper edge.</summary>
    public static double[] Shares(IReadOnlyList<double> values, double[] edges)
    {
        int bins = edges.Length - 1;
        var counts = new double[bins];
        int total = 0;
        double width = (edges[^1] - edges[0]) / bins;
        foreach (double v in values)
        {
            if (!double.IsFinite(v) || v < edges[0] || v > edges[^1]) continue;
            int i = Math.Min(bins - 1, (int)((v - edges[0]) / width));
            counts[i]++;
            total++;
        }
        if (total > 0) for (int i = 0; i < bins; i++) counts[i] /= total;
        return counts;
    }
}
