using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// The report's two plots — fidelity against rarity, and the rarity-score histograms — as <see cref="PlotSpec"/>s, and
/// drawn as inline SVG: by ScottPlot when the plotting folder is present, else by the built-in <see cref="SvgChart"/>.
/// </summary>
internal static class ReportPlots
{
    /// <summary>Colours of the plots (the headless-browser test looks for them in a screenshot).</summary>
    internal const string TrialColor = "#1f77b4", ParetoColor = "#d62728", BaseColor = "#7f7f7f", TunedColor = "#2ca02c", ReferenceColor = "#9467bd", CurveColor = "#ff7f0e";

    /// <summary>How the report names the fallback renderer.</summary>
    internal const string BuiltInName = "the built-in SVG chart";

    /// <summary>
    /// FID-ResNet18 (x, lower is closer to the reference) against rare rate (y): every trial, the base and the tuned
    /// model, each labelled, with the Pareto front as a dashed line. Null when no point has both numbers.
    /// </summary>
    public static PlotSpec? FidelityRarity(NftReport report)
    {
        var points = new List<(double Fid, double Rare, string Label, string Color, string Shape)>();
        if (report.Base is { RareRate: { } br } b && double.IsFinite(b.FidResNet18)) points.Add((b.FidResNet18, br, "base", BaseColor, "square"));
        foreach (var t in report.Trials)
            if (t.Metrics.RareRate is { } r && double.IsFinite(t.Metrics.FidResNet18))
                points.Add((t.Metrics.FidResNet18, r, t.Id, t.OnParetoFront ? ParetoColor : TrialColor, "circle"));
        // The tuned model is drawn on its own only when it is not one of the trials.
        if (report.Tuned is { RareRate: { } tr } tuned && double.IsFinite(tuned.FidResNet18) && !report.Trials.Any(t => ReferenceEquals(t.Metrics, tuned)))
            points.Add((tuned.FidResNet18, tr, report.TunedName, TunedColor, "square"));
        // The α curve: from the base model through each scaled update to the tuned model.
        var curve = new List<double[]>();
        if (report.AlphaCurve.Count > 0)
        {
            if (report.Base is { RareRate: { } cb } cbase && double.IsFinite(cbase.FidResNet18)) curve.Add([cbase.FidResNet18, cb]);
            foreach (var p in report.AlphaCurve.OrderBy(p => p.Alpha))
                if (p.Metrics.RareRate is { } r && double.IsFinite(p.Metrics.FidResNet18))
                {
                    points.Add((p.Metrics.FidResNet18, r, p.Label, CurveColor, "circle"));
                    curve.Add([p.Metrics.FidResNet18, r]);
                }
            if (report.Tuned is { RareRate: { } ct } ctuned && double.IsFinite(ctuned.FidResNet18)) curve.Add([ctuned.FidResNet18, ct]);
        }
        if (points.Count == 0) return null;

        var (x0, x1) = SvgChart.Widen(points.Min(p => p.Fid), points.Max(p => p.Fid));
        var (y0, y1) = SvgChart.Widen(Math.Min(0, points.Min(p => p.Rare)), points.Max(p => p.Rare));
        if (points.All(p => p.Rare >= 0)) y0 = 0; // a rate: the axis starts at 0, not in the widening margin below it
        var spec = new PlotSpec
        {
            Width = 720, Height = 460, Title = "Fidelity vs rarity",
            XLabel = "FID-ResNet18 (lower is closer to the reference)", YLabel = "rare_rate",
            XRange = [x0, x1], YRange = [y0, y1],
        };
        var front = report.Trials.Where(t => t.OnParetoFront && t.Metrics.RareRate is not null)
            .Select(t => new[] { t.Metrics.FidResNet18, t.Metrics.RareRate!.Value }).OrderBy(p => p[0]).ThenByDescending(p => p[1]).ToArray();
        if (front.Length >= 2) spec.Lines.Add(new LineSpec(front, ParetoColor, 2, Dashed: true));
        if (curve.Count >= 2) spec.Lines.Add(new LineSpec(curve.ToArray(), CurveColor, 2, Dashed: false));
        foreach (var (fid, rare, label, color, shape) in points)
            spec.Markers.Add(new MarkerSpec(fid, rare, color, shape, 12, label,
                string.Create(CultureInfo.InvariantCulture, $"{label}: FID {fid:F3}, rare_rate {rare:F4}")));
        if (report.Trials.Count > 0)
        {
            spec.Legend.Add(new LegendSpec("trial", TrialColor, "marker"));
            spec.Legend.Add(new LegendSpec("Pareto front", ParetoColor, "line"));
        }
        if (report.Base?.RareRate is not null) spec.Legend.Add(new LegendSpec("base", BaseColor, "marker", "square"));
        if (points.Any(p => p.Color == TunedColor)) spec.Legend.Add(new LegendSpec(report.TunedName, TunedColor, "marker", "square"));
        if (curve.Count >= 2) spec.Legend.Add(new LegendSpec("update scaled by α", CurveColor, "line"));
        return spec;
    }

    /// <summary>
    /// Overlaid histograms of the rarity scores of the reference tokens and of the base's and tuned model's decodable
    /// images, as shares of each set per bin (the sets differ in size), with the rare threshold. Null without scores.
    /// </summary>
    public static PlotSpec? RarityHistograms(NftReport report)
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
        var (x0, x1) = SvgChart.Widen(edges[0], edges[^1]);
        var (_, y1) = SvgChart.Widen(0, heights.SelectMany(h => h).DefaultIfEmpty(0).Max());
        var spec = new PlotSpec
        {
            Width = 720, Height = 400, Title = "Rarity scores",
            XLabel = "OpenRarity score (against the reference's trait frequencies)", YLabel = "share of images per bin",
            XRange = [x0, x1], YRange = [0, y1],
        };
        for (int i = 0; i < series.Count; i++)
        {
            spec.Steps.Add(new StepsSpec(edges, heights[i], series[i].Color));
            spec.Legend.Add(new LegendSpec(string.Create(CultureInfo.InvariantCulture, $"{series[i].Name} ({series[i].Scores.Count})"), series[i].Color, "fill"));
        }
        if (double.IsFinite(threshold))
            spec.VerticalLines.Add(new VerticalLineSpec(threshold, "#000000", string.Create(CultureInfo.InvariantCulture, $"rare ≥ {threshold:F3}")));
        return spec;
    }

    /// <summary>
    /// Draws <paramref name="spec"/> as an &lt;svg&gt; element with ScottPlot when <paramref name="scottPlot"/> is
    /// available, else (or when ScottPlot fails on this plot) with <see cref="SvgChart"/>; says which drew it and why not
    /// ScottPlot. Element ids are prefixed with <paramref name="idPrefix"/>, so two plots on one page keep their own clip paths.
    /// </summary>
    public static (string Svg, string Renderer, string? FallbackReason) Render(PlotSpec spec, ScottPlotRenderer scottPlot, string idPrefix)
    {
        string? reason = scottPlot.UnavailableReason;
        if (reason is null)
        {
            try
            {
                return (Inline(scottPlot.RenderSvg(spec.ToJson()), idPrefix), scottPlot.Description!, null);
            }
            // Any failure inside ScottPlot or its native library: a plot must never cost a sweep its report.
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                reason = $"ScottPlot failed on this plot: {ex.GetType().Name}: {ex.Message}";
            }
        }
        return (SvgChart.Render(spec), BuiltInName, reason);
    }

    /// <summary>
    /// A standalone SVG document made fit for inline use in HTML: ids scoped to the plot, and no namespace declarations —
    /// the HTML parser puts &lt;svg&gt; and xlink: attributes in their namespaces itself, and the declarations' URIs would
    /// be the page's only "http://" strings, which its self-contained checks look for.
    /// </summary>
    internal static string Inline(string svg, string idPrefix) =>
        Regex.Replace(ScopeIds(svg, idPrefix), "\\s+xmlns(?::[a-z]+)?=\"http://www\\.w3\\.org/[^\"]*\"", "");

    /// <summary>Prefixes every id="…" and its references (url(#…), href="#…") so that inline SVGs do not share ids.</summary>
    internal static string ScopeIds(string svg, string prefix)
    {
        svg = Regex.Replace(svg, "\\bid=\"([^\"]+)\"", m => $"id=\"{prefix}-{m.Groups[1].Value}\"");
        svg = Regex.Replace(svg, "url\\(#([^)]+)\\)", m => $"url(#{prefix}-{m.Groups[1].Value})");
        return Regex.Replace(svg, "href=\"#([^\"]+)\"", m => $"href=\"#{prefix}-{m.Groups[1].Value}\"");
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
