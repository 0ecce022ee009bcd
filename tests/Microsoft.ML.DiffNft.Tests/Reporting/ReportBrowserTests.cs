using System.Diagnostics;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

/// <summary>Renders report.html in headless Chromium and checks the screenshot shows the plots and the images.</summary>
public sealed class ReportBrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task TheReportRendersInHeadlessChromiumWithItsPlotAndImages()
    {
        if (!File.Exists(Chromium))
        {
            output.WriteLine($"Skipped: {Chromium} is not installed (apt-get install -y --no-install-recommends chromium; .ci/run installs it).");
            return;
        }
        using var dir = new NounsTestData.TempDir();
        string html = Path.Combine(dir.Path, "report.html");
        string shot = Path.Combine(dir.Path, "shot.png");
        NftReportWriter.WriteHtml(ReportFixtures.Build(), html);
        // The plots in the screenshot are ScottPlot's (from the plotting folder in the test output), not the fallback chart.
        Assert.Contains("Plots drawn with ScottPlot 5.1.59", File.ReadAllText(html));

        var psi = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={Path.Combine(dir.Path, "profile")}",
                     $"--screenshot={shot}", "--window-size=1200,2000", new Uri(html).AbsoluteUri,
                 })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("Chromium did not finish within 90 s.");
        }
        output.WriteLine($"chromium exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        Assert.True(File.Exists(shot), "Chromium wrote no screenshot.");

        // DIFFNFT_REPORT_SCREENSHOT=path keeps the screenshot for a look.
        if (Environment.GetEnvironmentVariable("DIFFNFT_REPORT_SCREENSHOT") is { Length: > 0 } keep) File.Copy(shot, keep, overwrite: true);
        var image = PngCodec.Load(shot);
        Assert.Equal((1200, 2000), (image.Width, image.Height));
        // The scatter plot sits at the top left (720 × 460 after the title): much of it is not white, and its Pareto
        // markers and dashed line are drawn in their own colour.
        var plot = Region(image, 0, 0, 760, 560);
        int nonWhite = plot.Count(p => p.R < 250 || p.G < 250 || p.B < 250);
        output.WriteLine($"plot region: {nonWhite} of {plot.Count} pixels not white");
        Assert.True(nonWhite > plot.Count / 50, $"Only {nonWhite} non-white pixels in the plot area.");
        int pareto = plot.Count(p => Near(p, (0xd6, 0x27, 0x28)));
        output.WriteLine($"Pareto-red pixels: {pareto}");
        Assert.True(pareto > 60, $"Only {pareto} pixels of the Pareto colour: the scatter plot did not render.");
        // The histograms follow it (beside or below, as the width allows): the tuned model's outline has its own colour.
        int green = Region(image, 0, 0, 1200, 1200).Count(p => Near(p, (0x2c, 0xa0, 0x2c)));
        output.WriteLine($"tuned-histogram pixels: {green}");
        Assert.True(green > 30, $"Only {green} pixels of the tuned histogram's colour.");
        // The first sample grid is solid magenta: the data-URI image was decoded and shown.
        int magenta = Region(image, 0, 0, 1200, 2000).Count(p => Near(p, ReportFixtures.GridColor));
        output.WriteLine($"grid-colour pixels: {magenta}");
        Assert.True(magenta >= 40 * 24, $"Only {magenta} pixels of the grid colour: the grid image did not render.");
    }

    private static List<(byte R, byte G, byte B)> Region(RgbaImage image, int x0, int y0, int x1, int y1)
    {
        var list = new List<(byte, byte, byte)>();
        for (int y = y0; y < Math.Min(y1, image.Height); y++)
            for (int x = x0; x < Math.Min(x1, image.Width); x++)
            {
                int i = 4 * (y * image.Width + x);
                list.Add((image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]));
            }
        return list;
    }

    private static bool Near((byte R, byte G, byte B) p, (byte R, byte G, byte B) c) =>
        Math.Abs(p.R - c.R) <= 6 && Math.Abs(p.G - c.G) <= 6 && Math.Abs(p.B - c.B) <= 6;
}
