using System.Runtime.Loader;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

/// <summary>
/// ScottPlot from the plotting folder, in its own load context: it draws what the spec says, and ML.NET's image code
/// (SkiaSharp 2.88 in the default context) keeps working in the same process.
/// </summary>
public sealed class ScottPlotRendererTests(ITestOutputHelper output)
{
    private const string Red = "#d62728", Blue = "#1f77b4";

    /// <summary>Two markers at known points, a dashed line between them, a legend: the title is "Known points 42".</summary>
    private static PlotSpec KnownPoints()
    {
        var spec = new PlotSpec { Width = 400, Height = 300, Title = "Known points 42", XLabel = "fid", YLabel = "rare", XRange = [0, 3], YRange = [0, 3] };
        spec.Markers.Add(new MarkerSpec(1, 1, Red, "circle", 14, "low"));
        spec.Markers.Add(new MarkerSpec(2, 2, Blue, "square", 14, "high"));
        spec.Lines.Add(new LineSpec([[1, 1], [2, 2]], Red, 2, Dashed: true));
        spec.Legend.Add(new LegendSpec("trial", Blue, "marker"));
        return spec;
    }

    /// <summary>The renderer of the test output folder, which the build must have filled (a missing folder fails).</summary>
    private ScottPlotRenderer Renderer()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, ScottPlotRenderer.FolderName);
        Assert.True(File.Exists(Path.Combine(folder, ScottPlotRenderer.AssemblyName + ".dll")),
            $"{folder} lacks {ScottPlotRenderer.AssemblyName}.dll: the build (Directory.Build.targets, DiffNftAddPlottingFolder) must copy the plotting project's output there.");
        var renderer = ScottPlotRenderer.Default;
        Assert.True(renderer.IsAvailable, "ScottPlot did not load: " + renderer.UnavailableReason);
        Assert.Equal(Path.GetFullPath(folder), renderer.Folder);
        output.WriteLine(renderer.Description);
        return renderer;
    }

    [Fact]
    public void ScottPlotFromThePlottingFolderDrawsTheSpecsPointsAsSvgAndPng()
    {
        var renderer = Renderer();
        Assert.StartsWith("ScottPlot 5.1.59 (SkiaSharp 3.119", renderer.Description);

        string svg = renderer.RenderSvg(KnownPoints().ToJson());
        output.WriteLine($"svg: {svg.Length} characters");
        Assert.StartsWith("<svg", svg);
        Assert.Contains(">Known points 42<", System.Text.RegularExpressions.Regex.Replace(svg, "\\s*(<|>)\\s*", "$1"));
        // ScottPlot's Skia SVG backend draws markers as <ellipse> (the built-in chart uses <circle>) in the spec's colours.
        Assert.Contains("<ellipse fill=\"#D62728\"", svg, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("#1F77B4", svg, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<circle", svg);

        // The PNG of the markers alone: the red one at (1, 1) lies left of and below the blue one at (2, 2), a third of
        // the data area apart.
        var markersOnly = KnownPoints();
        markersOnly.Lines.Clear();
        markersOnly.Legend.Clear();
        var image = PngCodec.Decode(new MemoryStream(renderer.RenderPng(markersOnly.ToJson())));
        Assert.Equal((400, 300), (image.Width, image.Height));
        var red = Centroid(image, (0xd6, 0x27, 0x28));
        var blue = Centroid(image, (0x1f, 0x77, 0xb4));
        output.WriteLine($"red centroid {red}, blue centroid {blue}");
        Assert.True(red.Count > 100 && blue.Count > 100, $"markers not drawn: {red.Count} red, {blue.Count} blue pixels");
        Assert.True(blue.X - red.X > 60 && red.Y - blue.Y > 40, $"markers misplaced: red {red}, blue {blue}");
    }

    [Fact]
    public void MLImageStillReadsPixelsWithSkiaSharp288AfterScottPlotDrewInTheSameProcess()
    {
        var renderer = Renderer();
        Assert.Contains("<svg", renderer.RenderSvg(KnownPoints().ToJson()));

        // Two SkiaSharps in one process: 2.88 in the default context (ML.NET's MLImage calls SKBitmap.GetPixelSpan, which
        // SkiaSharp 3 removed), 3.119 in the plotting context, each with its own native libSkiaSharp.
        Assert.Equal((2, 88), Version(typeof(SkiaSharp.SKBitmap).Assembly.GetName().Version));
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(SkiaSharp.SKBitmap).Assembly));
        var plottingSkia = renderer.LoadContext!.Assemblies.Single(a => a.GetName().Name == "SkiaSharp");
        Assert.Equal((3, 119), Version(plottingSkia.GetName().Version));
        if (OperatingSystem.IsLinux())
        {
            var natives = File.ReadLines("/proc/self/maps").Select(l => l[(l.LastIndexOf(' ') + 1)..])
                .Where(p => p.EndsWith("/libSkiaSharp.so", StringComparison.Ordinal)).Distinct().ToList();
            output.WriteLine("native SkiaSharp libraries mapped: " + string.Join(", ", natives));
            Assert.Contains(natives, p => p.Contains($"/{ScottPlotRenderer.FolderName}/runtimes/", StringComparison.Ordinal));
        }

        using var dir = new NounsTestData.TempDir();
        var png = new RgbaImage(3, 2);
        png.SetPixel(0, 0, 10, 20, 30, 255);
        png.SetPixel(2, 1, 200, 100, 50, 255);
        string path = Path.Combine(dir.Path, "known.png");
        File.WriteAllBytes(path, PngCodec.Encode(png));

        using (var image = MLImage.CreateFromFile(path))
        {
            Assert.Equal((3, 2), (image.Width, image.Height));
            byte[] bgr = image.GetBGRPixels.ToArray();
            Assert.Equal(new byte[] { 30, 20, 10 }, bgr[..3]);
            Assert.Equal(new byte[] { 50, 100, 200 }, bgr[^3..]);
        }

        // The same file through an ML.NET pipeline: LoadImages, ResizeImages (to its own size: ExtractPixels needs a
        // known size), ExtractPixels (planar R, G, B).
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable([new ImagePath { Path = path }]);
        var pixels = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImagePath.Path))
            .Append(ml.Transforms.ResizeImages("Image", 3, 2))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
            .Fit(data).Transform(data).GetColumn<VBuffer<float>>("Pixels").Single().DenseValues().ToArray();
        const int plane = 6;
        Assert.Equal([10f, 20f, 30f], new[] { pixels[0], pixels[plane], pixels[2 * plane] });
        Assert.Equal([200f, 100f, 50f], new[] { pixels[5], pixels[plane + 5], pixels[2 * plane + 5] });
    }

    [Fact]
    public void ABadSpecIsAFormatExceptionThatNamesTheField()
    {
        var renderer = Renderer();
        var ex = Assert.Throws<FormatException>(() => renderer.RenderSvg("""{"markers":[{"x":1,"y":1,"color":"red"}]}"""));
        Assert.Contains("markers[0].color", ex.Message);
        ex = Assert.Throws<FormatException>(() => renderer.RenderSvg("""{"steps":[{"edges":[0,1],"heights":[1,2],"color":"#000000"}]}"""));
        Assert.Contains("steps[0]", ex.Message);
        Assert.Throws<FormatException>(() => renderer.RenderSvg("{ not json"));
    }

    [Fact]
    public void AFolderThatIsMissingOrBrokenMakesTheRendererUnavailableAndSaysWhy()
    {
        var missing = new ScottPlotRenderer(null, ["/nowhere/plotting"]);
        Assert.False(missing.IsAvailable);
        Assert.Contains("/nowhere/plotting", missing.UnavailableReason);
        Assert.Throws<InvalidOperationException>(() => missing.RenderSvg(KnownPoints().ToJson()));

        // A folder with the plotting assembly but without ScottPlot's dependencies does not load.
        using var dir = new NounsTestData.TempDir();
        File.Copy(Path.Combine(AppContext.BaseDirectory, ScottPlotRenderer.FolderName, ScottPlotRenderer.AssemblyName + ".dll"),
            Path.Combine(dir.Path, ScottPlotRenderer.AssemblyName + ".dll"));
        var broken = new ScottPlotRenderer(dir.Path, [dir.Path]);
        Assert.False(broken.IsAvailable);
        output.WriteLine(broken.UnavailableReason);
        Assert.Contains(dir.Path, broken.UnavailableReason);

        // Every managed assembly but no native libraries: SkiaSharp 3 must not fall back to the application's 2.88 native
        // library; the load context says which file is missing.
        using var managedOnly = new NounsTestData.TempDir();
        foreach (string dll in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, ScottPlotRenderer.FolderName), "*.dll"))
            File.Copy(dll, Path.Combine(managedOnly.Path, Path.GetFileName(dll)));
        var noNatives = new ScottPlotRenderer(managedOnly.Path, [managedOnly.Path]);
        Assert.False(noNatives.IsAvailable);
        output.WriteLine(noNatives.UnavailableReason);
        Assert.Contains("has no libSkiaSharp", noNatives.UnavailableReason);
    }

    private static (int Major, int Minor) Version(Version? v) => (v!.Major, v.Minor);

    private static (int Count, double X, double Y) Centroid(RgbaImage image, (byte R, byte G, byte B) c)
    {
        long n = 0;
        double sx = 0, sy = 0;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int i = 4 * (y * image.Width + x);
                if (Math.Abs(image.Pixels[i] - c.R) <= 6 && Math.Abs(image.Pixels[i + 1] - c.G) <= 6 && Math.Abs(image.Pixels[i + 2] - c.B) <= 6)
                {
                    n++;
                    sx += x;
                    sy += y;
                }
            }
        return ((int)n, n == 0 ? double.NaN : sx / n, n == 0 ? double.NaN : sy / n);
    }

    private sealed class ImagePath
    {
        public string Path { get; set; } = "";
    }
}
