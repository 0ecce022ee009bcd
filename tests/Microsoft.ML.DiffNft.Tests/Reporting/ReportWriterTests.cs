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
    [Fact]
    public void HtmlIsOneSelfContainedFileWhoseImagesArePngDataUris()
    {
        var report = ReportFixtures.Build();
        string html = NftReportWriter.RenderHtml(report);

        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
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
        // Every src or href in the page is a data URI (nothing to fetch).
        Assert.All(Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value), v => Assert.StartsWith("data:", v));
        // Text is escaped.
        Assert.Contains("Test &lt;report&gt; &amp; co", html);
        Assert.DoesNotContain("<report>", html);

        // Both plots: one marker per trial plus the base (a square), the Pareto front as a dashed line through its two trials.
        Assert.Contains("id=\"fidelity-rarity\"", html);
        Assert.Contains("id=\"rarity-histograms\"", html);
        Assert.Equal(3, Regex.Matches(html, "<circle ").Count);
        Assert.Equal(2, Regex.Matches(html, $"<circle [^>]*fill=\"{ReportPlots.ParetoColor}\"").Count);
        var front = Regex.Match(html, $"<polyline points=\"([^\"]+)\" fill=\"none\" stroke=\"{ReportPlots.ParetoColor}\"");
        Assert.True(front.Success);
        Assert.Equal(2, front.Groups[1].Value.Split(' ').Length);
        // Three histograms (reference, base, tuned) and the rare threshold.
        Assert.Equal(3, Regex.Matches(html, "<polygon ").Count);
        Assert.Contains("rare ≥ 1.750", html);
        // The leaderboard table lists the trials by rank.
        var trialsTable = html[html.IndexOf("id=\"trials\"", StringComparison.Ordinal)..];
        Assert.True(trialsTable.IndexOf(">r1<", StringComparison.Ordinal) < trialsTable.IndexOf(">r0.5<", StringComparison.Ordinal));
        Assert.True(trialsTable.IndexOf(">r0.5<", StringComparison.Ordinal) < trialsTable.IndexOf(">r0<", StringComparison.Ordinal));
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
