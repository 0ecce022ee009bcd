using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// Writes an <see cref="NftReport"/> as <c>report.html</c> — one self-contained page (images as PNG data URIs, CSS inline,
/// plots as inline SVG drawn with ScottPlot, no scripts and nothing fetched), viewable offline — and as <c>report.json</c>
/// with the same numbers (snake_case keys). Both files are written atomically. ScottPlot is loaded from the
/// <c>plotting/</c> folder beside the application; without it the plots are drawn by a built-in SVG chart, and the page
/// and the JSON (<c>plot_renderer</c>) say which.
/// </summary>
internal static class NftReportWriter
{
    private static readonly byte[] s_pngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly (string Key, string Header, Func<NftGenerationMetrics, double?> Value, string Format)[] s_columns =
    [
        ("n", "n", m => m.Count, "F0"),
        ("fid_resnet18", "FID-ResNet18", m => m.FidResNet18, "F3"),
        ("kid_resnet18", "KID", m => m.KidResNet18, "F4"),
        ("rarity_score", "rarity score", m => m.RarityScore, "F4"),
        ("rare_rate", "rare rate", m => m.RareRate, "F4"),
        ("decodable_rate", "decodable", m => m.DecodableRate, "F4"),
        ("novelty", "novelty", m => m.Novelty, "F4"),
        ("duplicate_rate", "duplicates", m => m.DuplicateRate, "F4"),
        ("diversity", "diversity", m => m.Diversity, "F3"),
    ];

    /// <summary>Writes the HTML page atomically.</summary>
    public static void WriteHtml(NftReport report, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, RenderHtml(report));
    }

    /// <summary>Writes the JSON atomically.</summary>
    public static void WriteJson(NftReport report, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, RenderJson(report));
    }

    /// <summary>The HTML page as text.</summary>
    /// <exception cref="ArgumentException">A grid is not PNG data.</exception>
    public static string RenderHtml(NftReport report) => RenderHtml(report, ScottPlotRenderer.Default);

    /// <summary>The HTML page, with the plots drawn by <paramref name="plots"/> when it is available.</summary>
    internal static string RenderHtml(NftReport report, ScottPlotRenderer plots)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(plots);
        Validate(report);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<title>").Append(E(report.Title)).Append("</title>\n");
        h.Append("""
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
            h1 { font-size: 22px; margin: 0 0 4px 0; }
            h2 { font-size: 17px; margin: 24px 0 8px 0; }
            .meta { color: #666; font-size: 13px; margin-bottom: 12px; }
            .plots { display: flex; flex-wrap: wrap; gap: 16px; }
            table { border-collapse: collapse; font-size: 13px; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th { background: #f2f2f2; }
            td.name, th.name { text-align: left; }
            tr.pareto td.name { font-weight: bold; }
            .grids { display: flex; flex-wrap: wrap; gap: 16px; }
            figure { margin: 0; }
            figcaption { font-size: 13px; margin-top: 4px; }
            img.grid { image-rendering: pixelated; max-width: 560px; border: 1px solid #ccc; }
            .note { font-size: 12px; color: #555; max-width: 900px; }
            .warning { font-size: 14px; color: #8a1f11; background: #fdecea; border: 1px solid #f5c2bd; padding: 6px 10px; max-width: 900px; }
            </style>

            """);
        h.Append("</head>\n<body>\n");
        h.Append("<h1>").Append(E(report.Title)).Append("</h1>\n");
        h.Append("<div class=\"meta\">").Append(E(report.Created.ToString("yyyy-MM-dd HH:mm:ss 'UTC'zzz", CultureInfo.InvariantCulture))).Append("</div>\n");
        foreach (string warning in report.Warnings)
            h.Append("<p class=\"warning\">").Append(E(warning)).Append("</p>\n");

        var plotted = new List<(string Id, PlotSpec Spec)>();
        if (ReportPlots.FidelityRarity(report) is { } scatter) plotted.Add(("fidelity-rarity", scatter));
        if (ReportPlots.RarityHistograms(report) is { } histograms) plotted.Add(("rarity-histograms", histograms));
        if (plotted.Count > 0)
        {
            var drawn = plotted.Select(p => (p.Id, Plot: ReportPlots.Render(p.Spec, plots, p.Id))).ToList();
            h.Append("<div class=\"plots\">\n");
            foreach (var (id, plot) in drawn) h.Append("<figure id=\"").Append(id).Append("\">\n").Append(plot.Svg).Append("</figure>\n");
            h.Append("</div>\n");
            // Which renderer drew the plots, and why not ScottPlot when it did not (docs/troubleshooting.md).
            h.Append("<p class=\"note\" id=\"plot-renderer\">Plots drawn with ")
                .Append(E(string.Join("; ", drawn.Select(d => d.Plot.Renderer).Distinct()))).Append('.');
            foreach (string reason in drawn.Select(d => d.Plot.FallbackReason).OfType<string>().Distinct())
                h.Append(" ScottPlot was not used: ").Append(E(reason)).Append('.');
            h.Append("</p>\n");
        }

        h.Append("<h2>Metrics</h2>\n<table id=\"metrics\">\n<tr><th class=\"name\">model</th>");
        foreach (var c in s_columns) h.Append("<th>").Append(E(c.Header)).Append("</th>");
        h.Append("</tr>\n");
        if (report.Base is { } b) MetricsRow(h, "base", b, null);
        if (report.Tuned is { } t) MetricsRow(h, report.TunedName, t, null);
        foreach (var p in report.AlphaCurve.OrderBy(p => p.Alpha)) MetricsRow(h, p.Label, p.Metrics, null);
        h.Append("</table>\n");
        if (report.AlphaCurve.Count > 0)
            h.Append("<p class=\"note\" id=\"alpha-curve\">α rows: the fine-tuning update scaled by α (base + α·(tuned − base)), ")
                .Append("generated and evaluated like the tuned model — the rarity–fidelity curve of one run, without retraining.</p>\n");

        if (report.Validation.Count > 0)
        {
            h.Append("<h2>Validation during fine-tuning</h2>\n<table id=\"validation\">\n<tr><th>iteration</th><th>rare rate</th><th>FID-ResNet18</th><th>duplicates</th><th>decodable</th><th class=\"name\"></th></tr>\n");
            foreach (var p in report.Validation.OrderBy(p => p.Iteration))
            {
                string F(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("F4", CultureInfo.InvariantCulture) : "–";
                string mark = (p.Iteration == 0 ? "base model" : "") + (p.Pareto ? (p.Iteration == 0 ? ", " : "") + "Pareto" : "") + (p.Chosen ? ", chosen" : "");
                h.Append("<tr><td>").Append(p.Iteration.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(F(p.RareRate))
                    .Append("</td><td>").Append(F(p.FidResNet18)).Append("</td><td>").Append(F(p.DuplicateRate)).Append("</td><td>")
                    .Append(F(p.DecodableRate)).Append("</td><td class=\"name\">").Append(E(mark)).Append("</td></tr>\n");
            }
            h.Append("</table>\n<p class=\"note\">The base model and the tuned model after every few iterations, each generating the same validation ")
                .Append("seeds (not the sets above) at a small N. Pareto: no other row is at least as rare and at least as close to the collection.</p>\n");
        }

        if (report.Summary.Count > 0)
        {
            var keys = report.Summary.SelectMany(x => x.Parameters.Keys).Distinct(StringComparer.Ordinal).ToList();
            var metrics = report.Summary.SelectMany(x => x.Metrics.Keys).Distinct(StringComparer.Ordinal).ToList();
            h.Append("<h2>Means over repeats</h2>\n<table id=\"summary\">\n<tr>");
            foreach (var k in keys) h.Append("<th>").Append(E(k)).Append("</th>");
            h.Append("<th>runs</th>");
            foreach (var m in metrics) h.Append("<th>").Append(E(m)).Append(" (mean ± s.e.)</th>");
            h.Append("</tr>\n");
            foreach (var row in report.Summary)
            {
                h.Append("<tr>");
                foreach (var k in keys)
                    h.Append("<td>").Append(row.Parameters.TryGetValue(k, out double v) ? E(v.ToString("G6", CultureInfo.InvariantCulture)) : "").Append("</td>");
                h.Append("<td>").Append(row.Runs.ToString(CultureInfo.InvariantCulture)).Append("</td>");
                foreach (var m in metrics)
                {
                    h.Append("<td>");
                    if (row.Metrics.TryGetValue(m, out var e) && e.Mean is { } mean)
                    {
                        h.Append(E(mean.ToString("G4", CultureInfo.InvariantCulture)));
                        if (e.StandardError is { } se) h.Append(" ± ").Append(E(se.ToString("G2", CultureInfo.InvariantCulture)));
                    }
                    h.Append("</td>");
                }
                h.Append("</tr>\n");
            }
            h.Append("</table>\n");
        }

        if (report.Trials.Count > 0)
        {
            var keys = report.Trials.SelectMany(x => x.Parameters.Keys).Distinct(StringComparer.Ordinal).ToList();
            h.Append("<h2>Trials (leaderboard)</h2>\n<table id=\"trials\">\n<tr><th>rank</th><th class=\"name\">trial</th>");
            foreach (var k in keys) h.Append("<th>").Append(E(k)).Append("</th>");
            foreach (var c in s_columns) h.Append("<th>").Append(E(c.Header)).Append("</th>");
            h.Append("<th>Pareto</th></tr>\n");
            foreach (var trial in report.Trials.OrderBy(x => x.Rank))
            {
                h.Append(trial.OnParetoFront ? "<tr class=\"pareto\">" : "<tr>");
                h.Append("<td>").Append(trial.Rank.ToString(CultureInfo.InvariantCulture)).Append("</td>");
                h.Append("<td class=\"name\">").Append(E(trial.Id)).Append("</td>");
                foreach (var k in keys)
                    h.Append("<td>").Append(trial.Parameters.TryGetValue(k, out double v) ? E(v.ToString("G6", CultureInfo.InvariantCulture)) : "").Append("</td>");
                Cells(h, trial.Metrics);
                h.Append("<td>").Append(trial.OnParetoFront ? "yes" : "").Append("</td></tr>\n");
            }
            h.Append("</table>\n");
            if (report.LeaderboardRule is { } rule) h.Append("<p class=\"note\">").Append(E(rule)).Append("</p>\n");
        }

        if (report.Grids.Count > 0)
        {
            h.Append("<h2>Samples</h2>\n<div class=\"grids\">\n");
            foreach (var g in report.Grids)
            {
                h.Append("<figure><img class=\"grid\" alt=\"").Append(E(g.Caption)).Append("\" src=\"data:image/png;base64,")
                    .Append(Convert.ToBase64String(g.Png)).Append("\"><figcaption>").Append(E(g.Caption)).Append("</figcaption></figure>\n");
            }
            h.Append("</div>\n");
        }

        if (report.Settings.Count > 0)
        {
            h.Append("<h2>Settings</h2>\n<table id=\"settings\">\n");
            foreach (var (k, v) in report.Settings)
                h.Append("<tr><td class=\"name\">").Append(E(k)).Append("</td><td class=\"name\">").Append(E(v)).Append("</td></tr>\n");
            h.Append("</table>\n");
        }
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    /// <summary>The JSON document as text: the same numbers as the page, snake_case keys, null for unavailable values.</summary>
    public static string RenderJson(NftReport report) => RenderJson(report, ScottPlotRenderer.Default);

    /// <summary>The JSON document, naming <paramref name="plots"/> (or the built-in chart) as the plots' renderer.</summary>
    internal static string RenderJson(NftReport report, ScottPlotRenderer plots)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(plots);
        Validate(report);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("title", report.Title);
            w.WriteString("created", report.Created.ToString("o", CultureInfo.InvariantCulture));
            w.WriteStartObject("settings");
            foreach (var (k, v) in report.Settings) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("warnings");
            foreach (string warning in report.Warnings) w.WriteStringValue(warning);
            w.WriteEndArray();
            w.WritePropertyName("base");
            Metrics(w, report.Base);
            w.WriteString("tuned_name", report.TunedName);
            w.WritePropertyName("tuned");
            Metrics(w, report.Tuned);
            Number(w, "rare_threshold", report.EffectiveRareThreshold);
            w.WriteStartObject("rarity_scores");
            Array(w, "reference", report.EffectiveReferenceScores);
            Array(w, "base", report.Base?.RarityScores);
            Array(w, "tuned", report.Tuned?.RarityScores);
            w.WriteEndObject();
            w.WriteStartArray("alpha_curve");
            foreach (var p in report.AlphaCurve.OrderBy(p => p.Alpha))
            {
                w.WriteStartObject();
                w.WriteNumber("alpha", p.Alpha);
                w.WritePropertyName("metrics");
                Metrics(w, p.Metrics);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("validation");
            foreach (var p in report.Validation.OrderBy(p => p.Iteration)) Pipeline.ValidationTrajectory.ToJson(p).WriteTo(w);
            w.WriteEndArray();
            if (report.LeaderboardRule is { } rule) w.WriteString("leaderboard_rule", rule);
            // What draws the page's plots: ScottPlot when the plotting folder loads, else the built-in chart; null without plots.
            bool hasPlots = ReportPlots.FidelityRarity(report) is not null || ReportPlots.RarityHistograms(report) is not null;
            if (hasPlots) w.WriteString("plot_renderer", plots.IsAvailable ? plots.Description : ReportPlots.BuiltInName);
            else w.WriteNull("plot_renderer");
            w.WriteStartArray("trials");
            foreach (var t in report.Trials.OrderBy(x => x.Rank))
            {
                w.WriteStartObject();
                w.WriteString("id", t.Id);
                w.WriteNumber("rank", t.Rank);
                w.WriteBoolean("pareto", t.OnParetoFront);
                w.WriteStartObject("parameters");
                foreach (var (k, v) in t.Parameters) Number(w, k, v);
                w.WriteEndObject();
                w.WritePropertyName("metrics");
                Metrics(w, t.Metrics);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("summary");
            foreach (var row in report.Summary)
            {
                w.WriteStartObject();
                w.WriteStartObject("parameters");
                foreach (var (k, v) in row.Parameters) Number(w, k, v);
                w.WriteEndObject();
                w.WriteNumber("runs", row.Runs);
                w.WriteStartObject("metrics");
                foreach (var (k, e) in row.Metrics)
                {
                    w.WriteStartObject(k);
                    if (e.Mean is { } mean) Number(w, "mean", mean);
                    else w.WriteNull("mean");
                    if (e.StandardError is { } se) Number(w, "se", se);
                    else w.WriteNull("se");
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("grids");
            foreach (var g in report.Grids)
            {
                w.WriteStartObject();
                w.WriteString("caption", g.Caption);
                w.WriteNumber("png_bytes", g.Png.Length);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Validate(NftReport report)
    {
        for (int i = 0; i < report.Grids.Count; i++)
        {
            var g = report.Grids[i] ?? throw new ArgumentException($"Report grid {i} is null.", nameof(report));
            if (g.Png is null || g.Png.Length < s_pngSignature.Length || !g.Png.AsSpan(0, s_pngSignature.Length).SequenceEqual(s_pngSignature))
                throw new ArgumentException($"Report grid {i} ('{g.Caption}') is not PNG data (expected the PNG signature 89 50 4E 47 0D 0A 1A 0A).", nameof(report));
        }
        for (int i = 0; i < report.Trials.Count; i++)
            if (report.Trials[i]?.Metrics is null) throw new ArgumentException($"Report trial {i} has no metrics.", nameof(report));
    }

    private static void MetricsRow(StringBuilder h, string name, NftGenerationMetrics m, string? extra)
    {
        h.Append("<tr><td class=\"name\">").Append(E(name)).Append(extra ?? "").Append("</td>");
        Cells(h, m);
        h.Append("</tr>\n");
    }

    private static void Cells(StringBuilder h, NftGenerationMetrics m)
    {
        foreach (var c in s_columns)
        {
            double? v = c.Value(m);
            h.Append("<td>").Append(v is { } x && double.IsFinite(x) ? x.ToString(c.Format, CultureInfo.InvariantCulture) : "–").Append("</td>");
        }
    }

    /// <summary>The metrics object with the keys of <see cref="NftGenerationMetrics.ToJson"/>, or null.</summary>
    private static void Metrics(Utf8JsonWriter w, NftGenerationMetrics? m)
    {
        if (m is null)
        {
            w.WriteNullValue();
            return;
        }
        using var doc = JsonDocument.Parse(m.ToJson());
        doc.RootElement.WriteTo(w);
    }

    private static void Number(Utf8JsonWriter w, string key, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(key, v);
        else w.WriteNull(key);
    }

    private static void Array(Utf8JsonWriter w, string key, IReadOnlyList<double>? values)
    {
        if (values is null)
        {
            w.WriteNull(key);
            return;
        }
        w.WriteStartArray(key);
        foreach (double v in values)
        {
            if (double.IsFinite(v)) w.WriteNumberValue(v);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    private static string E(string text) => SvgChart.Escape(text);
}
