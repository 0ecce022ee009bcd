using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

public sealed class ReportWriterTests
{
    /// <summary>The renderer when the plotting folder is missing: the built-in SVG chart draws the plots.</summary>
    private static ScottPlotRenderer BuiltIn => new(null, ["/nowhere/plotting"]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HtmlIsOneSelfContainedFileWhoseImagesArePngDataUris(bool scottPlot)
    {
        var report = ReportFixtures.Build();
        string html = scottPlot ? NftReportWriter.RenderHtml(report) : NftReportWriter.RenderHtml(report, BuiltIn);
        Assert.Contains(scottPlot ? "Plots drawn with ScottPlot 5.1.59" : "Plots drawn with the built-in SVG chart.", html);

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        // url(…) only for the plots' own clip paths, and every id on the page is unique (two inline SVGs share one page).
        Assert.Empty(Regex.Matches(html, "url\\((?!#)", RegexOptions.IgnoreCase));
        var ids = Regex.Matches(html, "\\bid=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(Regex.Matches(html, "url\\(#([^)]+)\\)").Select(m => m.Groups[1].Value), id => Assert.Contains(id, ids));
        var images = Regex.Matches(html, "<img[^>]*>").Select(m => m.Value).ToList();
        Assert.Equal(report.Grids.Count, images.Count);
        for (int i = 0; i < images.Count; i++)
        {
            var src = Regex.Match(images[i], "src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
            Assert.True(src.Success, $"image {i} is not a PNG data URI: {images[i][..Math.Min(80, images[i].Length)]}");
            var decoded = PngCodec.Decode(new MemoryStream(Convert.FromBase64String(src.Groups[1].Value)));
            var expected = PngCodec.Decode(new MemoryStream(report.Grids[i].Png));
            Assert.Equal((expected.Width, expected.Height), (decoded.Width, decoded.Height));
            Assert.Equal(expected.Pixels, decoded.Pixels);
        }
        // Every src or href in the page is a data URI (nothing to fetch) or a reference within it.
        Assert.All(Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value), v => Assert.True(v.StartsWith("data:") || v.StartsWith('#'), v));
        // Text is escaped.
        Assert.Contains("Test &lt;report&gt; &amp; co", html);
        Assert.DoesNotContain("<report>", html);
        Assert.Contains("id=\"fidelity-rarity\"", html);
        Assert.Contains("id=\"rarity-histograms\"", html);
        // The leaderboard table lists the trials by rank.
        var trialsTable = html[html.IndexOf("id=\"trials\"", StringComparison.Ordinal)..];
        Assert.True(trialsTable.IndexOf(">r1<", StringComparison.Ordinal) < trialsTable.IndexOf(">r0.5<", StringComparison.Ordinal));
        Assert.True(trialsTable.IndexOf(">r0.5<", StringComparison.Ordinal) < trialsTable.IndexOf(">r0<", StringComparison.Ordinal));
        if (scottPlot)
        {
            // ScottPlot draws round markers as <ellipse>s: the two Pareto trials in red; the third trial and the legend's
            // "trial" entry in blue (the Pareto front's legend entry is a line; the base is a square).
            Assert.Equal(2, Regex.Matches(html, $"<ellipse fill=\"{ReportPlots.ParetoColor}\"", RegexOptions.IgnoreCase).Count);
            Assert.Equal(2, Regex.Matches(html, $"<ellipse fill=\"{ReportPlots.TrialColor}\"", RegexOptions.IgnoreCase).Count);
            return;
        }

        // The built-in chart: one marker per trial plus the base (a square), the Pareto front as a dashed line through its two trials.
        Assert.Equal(3, Regex.Matches(html, "<circle ").Count);
        Assert.Equal(2, Regex.Matches(html, $"<circle [^>]*fill=\"{ReportPlots.ParetoColor}\"").Count);
        var front = Regex.Match(html, $"<polyline points=\"([^\"]+)\" fill=\"none\" stroke=\"{ReportPlots.ParetoColor}\"");
        Assert.True(front.Success);
        Assert.Equal(2, front.Groups[1].Value.Split(' ').Length);
        // Three histograms (reference, base, tuned) and the rare threshold.
        Assert.Equal(3, Regex.Matches(html, "<polygon ").Count);
        Assert.Contains("rare ≥ 1.750", html);
    }

    [Fact]
    public void ThePlotSpecsHoldTheReportsPointsFrontAndHistograms()
    {
        var report = ReportFixtures.Build();
        var scatter = ReportPlots.FidelityRarity(report)!;
        // Base (grey square) and three trials (two red on the Pareto front, one blue); the tuned model is trial r1.
        Assert.Equal(["base", "r0", "r0.5", "r1"], scatter.Markers.Select(m => m.Label!).ToArray());
        Assert.Equal([(12.5, 0.03125), (10.25, 0.015625), (14.0, 0.03), (13.0, 0.25)], scatter.Markers.Select(m => (m.X, m.Y)).ToArray());
        Assert.Equal([ReportPlots.BaseColor, ReportPlots.ParetoColor, ReportPlots.TrialColor, ReportPlots.ParetoColor], scatter.Markers.Select(m => m.Color).ToArray());
        Assert.Equal(["square", "circle", "circle", "circle"], scatter.Markers.Select(m => m.Shape).ToArray());
        var front = Assert.Single(scatter.Lines);
        Assert.True(front.Dashed);
        Assert.Equal([[10.25, 0.015625], [13.0, 0.25]], front.Points);
        // The axes cover every point.
        Assert.All(scatter.Markers, m => Assert.InRange(m.X, scatter.XRange[0], scatter.XRange[1]));
        Assert.All(scatter.Markers, m => Assert.InRange(m.Y, scatter.YRange[0], scatter.YRange[1]));
        Assert.Equal(0, scatter.YRange[0]); // rates are never negative: the axis starts at 0
        // A tuned model that is not a trial gets its own green square and legend entry.
        var lone = ReportFixtures.Build();
        lone.Trials.Clear();
        var single = ReportPlots.FidelityRarity(lone)!;
        Assert.Equal(ReportPlots.TunedColor, single.Markers[^1].Color);
        Assert.Contains(single.Legend, l => l.Color == ReportPlots.TunedColor && l.Label == report.TunedName);

        var histograms = ReportPlots.RarityHistograms(report)!;
        Assert.Equal([ReportPlots.ReferenceColor, ReportPlots.BaseColor, ReportPlots.TunedColor], histograms.Steps.Select(s => s.Color).ToArray());
        Assert.All(histograms.Steps, s => Assert.Equal(1.0, s.Heights.Sum(), 9)); // shares of each set
        Assert.Equal(["reference (400)", "base (60)", "best: r1 (50)"], histograms.Legend.Select(l => l.Label).ToArray());
        var threshold = Assert.Single(histograms.VerticalLines);
        Assert.Equal((1.75, "rare ≥ 1.750"), (threshold.X, threshold.Label));

        // The JSON the plotting assembly reads: camelCase, the same numbers.
        using var doc = JsonDocument.Parse(scatter.ToJson());
        Assert.Equal(13.0, doc.RootElement.GetProperty("lines")[0].GetProperty("points")[1][0].GetDouble());
        Assert.Equal("r0", doc.RootElement.GetProperty("markers")[1].GetProperty("label").GetString());
    }

    [Fact]
    public void TheJsonNamesThePlotRenderer()
    {
        var report = ReportFixtures.Build();
        using var withScottPlot = JsonDocument.Parse(NftReportWriter.RenderJson(report));
        Assert.StartsWith("ScottPlot 5.1.59", withScottPlot.RootElement.GetProperty("plot_renderer").GetString());
        using var builtIn = JsonDocument.Parse(NftReportWriter.RenderJson(report, BuiltIn));
        Assert.Equal(ReportPlots.BuiltInName, builtIn.RootElement.GetProperty("plot_renderer").GetString());
        using var noPlots = JsonDocument.Parse(NftReportWriter.RenderJson(new NftReport { Base = ReportFixtures.Metrics(5, null) }));
        Assert.Equal(JsonValueKind.Null, noPlots.RootElement.GetProperty("plot_renderer").ValueKind);
    }

    [Fact]
    public void WithoutThePlottingFolderThePageSaysWhyScottPlotWasNotUsed()
    {
        string html = NftReportWriter.RenderHtml(ReportFixtures.Build(), BuiltIn);
        var note = Regex.Match(html, "<p class=\"note\" id=\"plot-renderer\">([^<]*)</p>");
        Assert.True(note.Success);
        Assert.Contains("the built-in SVG chart", note.Groups[1].Value);
        Assert.Contains("the plotting folder was not found", note.Groups[1].Value);
        Assert.Contains("/nowhere/plotting", note.Groups[1].Value);
    }

    [Fact]
    public void JsonHoldsTheSameNumbers()
    {
        var report = ReportFixtures.Build();
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "out", "report.json");
        NftReportWriter.WriteJson(report, path);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // atomic write leaves no temporary file
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;

        Assert.Equal("Test <report> & co", root.GetProperty("title").GetString());
        Assert.Equal(report.Created, DateTimeOffset.Parse(root.GetProperty("created").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0, 0.5, 1", root.GetProperty("settings").GetProperty("rarity_weights").GetString());
        AssertMetrics(report.Base!, root.GetProperty("base"));
        AssertMetrics(report.Tuned!, root.GetProperty("tuned"));
        Assert.Equal(0.03125, root.GetProperty("base").GetProperty("rare_rate").GetDouble());
        Assert.Equal(12.5, root.GetProperty("base").GetProperty("fid_resnet18").GetDouble());
        Assert.Equal("best: r1", root.GetProperty("tuned_name").GetString());
        Assert.Equal(1.75, root.GetProperty("rare_threshold").GetDouble());
        var scores = root.GetProperty("rarity_scores");
        Assert.Equal(report.Base!.ReferenceRarityScores, scores.GetProperty("reference").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        Assert.Equal(report.Base.RarityScores, scores.GetProperty("base").EnumerateArray().Select(e => e.GetDouble()).ToArray());
        Assert.Equal(report.Tuned!.RarityScores, scores.GetProperty("tuned").EnumerateArray().Select(e => e.GetDouble()).ToArray());

        var trials = root.GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal(["r1", "r0.5", "r0"], trials.Select(t => t.GetProperty("id").GetString()!).ToArray());
        foreach (var t in trials)
        {
            var expected = report.Trials.Single(x => x.Id == t.GetProperty("id").GetString());
            Assert.Equal(expected.Rank, t.GetProperty("rank").GetInt32());
            Assert.Equal(expected.OnParetoFront, t.GetProperty("pareto").GetBoolean());
            Assert.Equal(expected.Parameters["rarity_weight"], t.GetProperty("parameters").GetProperty("rarity_weight").GetDouble());
            AssertMetrics(expected.Metrics, t.GetProperty("metrics"));
        }
        Assert.Equal(["reference", "base"], root.GetProperty("grids").EnumerateArray().Select(g => g.GetProperty("caption").GetString()!).ToArray());
    }

    [Fact]
    public void MetricsJsonRoundTripsAndBadFilesNameTheKey()
    {
        var m = ReportFixtures.Metrics(3.25, null) with { AdditionalMetrics = new Dictionary<string, double> { ["fid_vit"] = 1.5 } };
        var back = NftGenerationMetricsJson.Parse(m.ToJson());
        Assert.Equal(m.ToJson(), back.ToJson());
        Assert.Null(back.RareRate);

        var ex = Assert.Throws<InvalidDataException>(() => NftGenerationMetricsJson.Parse("{\"n\": 4}", "x/metrics.json"));
        Assert.Contains("x/metrics.json", ex.Message);
        Assert.Contains("fid_resnet18", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => NftGenerationMetricsJson.Parse(m.ToJson().Replace("\"diversity\": 7.123456789", "\"diversity\": \"high\""), "m.json"));
        Assert.Contains("'diversity'", ex.Message);
        Assert.Throws<InvalidDataException>(() => NftGenerationMetricsJson.Parse("{ not json", "m.json"));
    }

    [Fact]
    public void AGridThatIsNotPngIsRejectedWithItsCaption()
    {
        var report = ReportFixtures.Build();
        report.Grids.Add(new ReportImage("trial broken", [1, 2, 3, 4, 5, 6, 7, 8, 9]));
        var ex = Assert.Throws<ArgumentException>(() => NftReportWriter.RenderHtml(report));
        Assert.Contains("trial broken", ex.Message);
    }

    [Fact]
    public void AReportWithoutRarityStillRendersItsTables()
    {
        var report = new NftReport { Base = ReportFixtures.Metrics(5, null) };
        string html = NftReportWriter.RenderHtml(report);
        Assert.DoesNotContain("<svg", html);
        Assert.Contains("<td>5.000</td>", html);
        using var doc = JsonDocument.Parse(NftReportWriter.RenderJson(report));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("base").GetProperty("rare_rate").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("tuned").ValueKind);
    }

    [Fact]
    public void TicksAreNiceAndCoverTheRange()
    {
        Assert.Equal([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], SvgChart.Ticks(0, 1).Select(t => Math.Round(t, 10)).ToArray());
        var (lo, hi) = SvgChart.Widen(10.3, 14.2);
        Assert.True(lo <= 10.3 && hi >= 14.2 && hi - lo < 8);
        var shares = Histogram.Shares([0, 0.5, 1, 1, double.NaN], Histogram.Edges(0, 1, 2));
        Assert.Equal([0.25, 0.75], shares);
    }

    private static void AssertMetrics(NftGenerationMetrics expected, JsonElement actual)
    {
        // The same keys as metrics.json, and the same numbers to the last bit.
        using var reference = JsonDocument.Parse(expected.ToJson());
        Assert.Equal(reference.RootElement.EnumerateObject().Select(p => p.Name), actual.EnumerateObject().Select(p => p.Name));
        foreach (var p in reference.RootElement.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Null) Assert.Equal(JsonValueKind.Null, actual.GetProperty(p.Name).ValueKind);
            else Assert.Equal(p.Value.GetDouble(), actual.GetProperty(p.Name).GetDouble());
        }
        Assert.Equal(expected.FidResNet18, actual.GetProperty("fid_resnet18").GetDouble());
        Assert.Equal(expected.RareRate, actual.GetProperty("rare_rate").ValueKind == JsonValueKind.Null ? null : actual.GetProperty("rare_rate").GetDouble());
    }
}
