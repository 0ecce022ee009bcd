using System.Diagnostics;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

/// <summary>Screenshots an HTML file in headless Chromium (Debian's <c>chromium</c>, which .ci/run installs).</summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Whether Chromium is installed; when not, says so in the test output (the test then returns early).</summary>
    public static bool Available(ITestOutputHelper output)
    {
        if (File.Exists(Path)) return true;
        output.WriteLine($"Skipped: {Path} is not installed (apt-get install -y --no-install-recommends chromium; .ci/run installs it).");
        return false;
    }

    /// <summary>Renders <paramref name="html"/> at <paramref name="width"/>×<paramref name="height"/> and returns the screenshot.</summary>
    public static async Task<RgbaImage> ScreenshotAsync(string html, string workDirectory, ITestOutputHelper output, int width = 1200, int height = 2000)
    {
        string shot = System.IO.Path.Combine(workDirectory, "shot.png");
        var psi = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", $"--user-data-dir={System.IO.Path.Combine(workDirectory, "profile")}",
                     $"--screenshot={shot}", $"--window-size={width},{height}", new Uri(html).AbsoluteUri,
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
        Assert.Equal((width, height), (image.Width, image.Height));
        return image;
    }

    /// <summary>The pixels of a rectangle, clipped to the image.</summary>
    public static List<(byte R, byte G, byte B)> Region(RgbaImage image, int x0, int y0, int x1, int y1)
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

    /// <summary>Whether a pixel is within 6 of a colour in every channel.</summary>
    public static bool Near((byte R, byte G, byte B) p, (byte R, byte G, byte B) c) =>
        Math.Abs(p.R - c.R) <= 6 && Math.Abs(p.G - c.G) <= 6 && Math.Abs(p.B - c.B) <= 6;
}
