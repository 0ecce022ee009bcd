using Microsoft.ML.DiffNft.Reporting;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

/// <summary>Renders report.html in headless Chromium and checks the screenshot shows the plots and the images.</summary>
public sealed class ReportBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheReportRendersInHeadlessChromiumWithItsPlotAndImages()
    {
        if (!HeadlessChromium.Available(output)) return;
        using var dir = new NounsTestData.TempDir();
        string html = Path.Combine(dir.Path, "report.html");
        NftReportWriter.WriteHtml(ReportFixtures.Build(), html);
        // The plots in the screenshot are ScottPlot's (from the plotting folder in the test output), not the fallback chart.
        Assert.Contains("Plots drawn with ScottPlot 5.1.59", File.ReadAllText(html));
        var image = await HeadlessChromium.ScreenshotAsync(html, dir.Path, output);

        // The scatter plot sits at the top left (720 × 460 after the title): much of it is not white, and its Pareto
        // markers and dashed line are drawn in their own colour.
        var plot = HeadlessChromium.Region(image, 0, 0, 760, 560);
        int nonWhite = plot.Count(p => p.R < 250 || p.G < 250 || p.B < 250);
        output.WriteLine($"plot region: {nonWhite} of {plot.Count} pixels not white");
        Assert.True(nonWhite > plot.Count / 50, $"Only {nonWhite} non-white pixels in the plot area.");
        int pareto = plot.Count(p => HeadlessChromium.Near(p, (0xd6, 0x27, 0x28)));
        output.WriteLine($"Pareto-red pixels: {pareto}");
        Assert.True(pareto > 60, $"Only {pareto} pixels of the Pareto colour: the scatter plot did not render.");
        // The histograms follow it (beside or below, as the width allows): the tuned model's outline has its own colour.
        int green = HeadlessChromium.Region(image, 0, 0, 1200, 1200).Count(p => HeadlessChromium.Near(p, (0x2c, 0xa0, 0x2c)));
        output.WriteLine($"tuned-histogram pixels: {green}");
        Assert.True(green > 30, $"Only {green} pixels of the tuned histogram's colour.");
        // The first sample grid is solid magenta: the data-URI image was decoded and shown.
        int magenta = HeadlessChromium.Region(image, 0, 0, 1200, 2000).Count(p => HeadlessChromium.Near(p, ReportFixtures.GridColor));
        output.WriteLine($"grid-colour pixels: {magenta}");
        Assert.True(magenta >= 40 * 24, $"Only {magenta} pixels of the grid colour: the grid image did not render.");
    }
}
