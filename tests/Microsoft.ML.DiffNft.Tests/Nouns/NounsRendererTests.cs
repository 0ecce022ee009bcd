using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>Rendering against independent references: the golden Noun 116 PNG and the Nouns SDK test vector.</summary>
public class NounsRendererTests
{
    private static readonly NounSeed s_noun116 = new(1, 28, 120, 95, 15);

    [Fact]
    public void Noun116ReproducesTheGoldenPngPixelForPixel()
    {
        var golden = PngCodec.Load(NounsTestData.GoldenNoun116);
        var rendered = NounsRenderer.Render(s_noun116);
        Assert.Equal(32, rendered.Width);
        Assert.Equal(32, rendered.Height);
        NounsTestData.AssertSameRgb(golden, rendered);
        // The golden file is an RGB PNG; it decodes as opaque, and so is every rendered pixel.
        Assert.All(Enumerable.Range(0, 1024), p => Assert.Equal(255, golden.Pixels[4 * p + 3]));
        Assert.All(Enumerable.Range(0, 1024), p => Assert.Equal(255, rendered.Pixels[4 * p + 3]));
    }

    [Fact]
    public void SdkTestVectorReproducesTheExpectedPng()
    {
        var art = NounsArt.Load(NounsTestData.SdkImageData, ["d5d7e1"]);
        var rendered = NounsRenderer.Render(new NounSeed(0, 0, 0, 0, 0), art);
        NounsTestData.AssertSameRgb(PngCodec.Load(NounsTestData.SdkExpectedPng), rendered);
    }

    [Fact]
    public void SdkTestVectorMatchesEveryCellOfTheExpectedSvg()
    {
        // The SDK's expected SVG (verbatim from the Nouns repository) draws 10×10-pixel cells as <rect>s over a
        // background rect; painting them onto a 32×32 grid gives an independent reference for the renderer.
        string svg = File.ReadAllText(NounsTestData.SdkExpectedSvg);
        var background = Regex.Match(svg, "<rect width=\"100%\" height=\"100%\" fill=\"#([0-9a-f]{6})\"");
        Assert.True(background.Success);
        var expected = new RgbaImage(32, 32);
        var (br, bg, bb) = Rgb(background.Groups[1].Value);
        expected.Fill(br, bg, bb);
        var rects = Regex.Matches(svg, "<rect width=\"(\\d+)\" height=\"(\\d+)\" x=\"(\\d+)\" y=\"(\\d+)\" fill=\"#([0-9a-f]{6})\"");
        Assert.True(rects.Count > 50);
        foreach (Match r in rects)
        {
            int w = Int(r, 1), h = Int(r, 2), x = Int(r, 3), y = Int(r, 4);
            Assert.True(w % 10 == 0 && h == 10 && x % 10 == 0 && y % 10 == 0, $"Unexpected rect {r.Value}");
            var (cr, cg, cb) = Rgb(r.Groups[5].Value);
            for (int cx = x / 10; cx < (x + w) / 10; cx++) expected.SetPixel(cx, y / 10, cr, cg, cb);
        }
        var art = NounsArt.Load(NounsTestData.SdkImageData, ["d5d7e1"]);
        NounsTestData.AssertSameRgb(expected, NounsRenderer.Render(new NounSeed(0, 0, 0, 0, 0), art));
    }

    [Fact]
    public void DrawOrderPutsLaterLayersOnTop()
    {
        var art = NounsArt.Default;
        var image = NounsRenderer.Render(s_noun116);
        var glasses = art.Part(NounsLayer.Glasses, 15);
        var head = art.Part(NounsLayer.Head, 95);
        // Every glasses pixel shows the glasses; every head pixel not under the glasses shows the head.
        AssertShows(image, glasses, _ => true);
        var underGlasses = new HashSet<int>(glasses.OpaquePixels.ToArray());
        AssertShows(image, head, p => !underGlasses.Contains(p));
        // Pixels no part covers show the warm background e1d7d5.
        var covered = new HashSet<int>(new[] { NounsLayer.Body, NounsLayer.Accessory, NounsLayer.Head, NounsLayer.Glasses }
            .SelectMany(l => art.Part(l, s_noun116[l]).OpaquePixels.ToArray()));
        for (int p = 0; p < 1024; p++)
            if (!covered.Contains(p))
                Assert.Equal(new byte[] { 0xe1, 0xd7, 0xd5, 255 }, image.Pixels.AsSpan(4 * p, 4).ToArray());
    }

    [Fact]
    public void ScaledRenderingRepeatsEachCell()
    {
        var small = NounsRenderer.Render(s_noun116);
        var big = NounsRenderer.Render(s_noun116, 10);
        Assert.Equal(320, big.Width);
        for (int y = 0; y < 320; y += 7)
            for (int x = 0; x < 320; x += 3)
                Assert.Equal(small.Pixels.AsSpan(4 * ((y / 10) * 32 + x / 10), 4).ToArray(), big.Pixels.AsSpan(4 * (y * 320 + x), 4).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => NounsRenderer.Render(s_noun116, 0));
    }

    [Theory]
    [InlineData(2, 0, 0, 0, 0, "Background index 2", "0 to 1")]
    [InlineData(0, 30, 0, 0, 0, "Body index 30", "0 to 29")]
    [InlineData(0, 0, -1, 0, 0, "Accessory index -1", "0 to 142")]
    [InlineData(0, 0, 0, 300, 0, "Head index 300", "0 to 253")]
    [InlineData(0, 0, 0, 0, 23, "Glasses index 23", "0 to 22")]
    public void InvalidSeedsNameThePartAndTheValidRange(int bg, int body, int acc, int head, int glasses, string part, string range)
    {
        var ex = Assert.Throws<ArgumentException>(() => NounsRenderer.Render(new NounSeed(bg, body, acc, head, glasses)));
        Assert.Contains(part, ex.Message);
        Assert.Contains(range, ex.Message);
    }

    [Fact]
    public void SeedsParseAndPrintAsFiveIntegers()
    {
        Assert.Equal(s_noun116, NounSeed.Parse(" 1, 28,120 ,95,15 "));
        Assert.Equal("1,28,120,95,15", s_noun116.ToString());
        Assert.Contains("five comma-separated", Assert.Throws<FormatException>(() => NounSeed.Parse("1,2,3")).Message);
        Assert.Contains("head index 'x'", Assert.Throws<FormatException>(() => NounSeed.Parse("1,2,3,x,4")).Message);
    }

    [Fact]
    public void CaptionAndAttributesDescribeTheSeed()
    {
        Assert.Equal("a noun, body teal, accessory txt noun multicolor, head goat, glasses square red", NounsMetadata.Caption(s_noun116));
        var attributes = NounsMetadata.Attributes(s_noun116);
        Assert.Equal(new[] { "Background", "Body", "Accessory", "Head", "Glasses" }, attributes.Select(a => a.TraitType));
        Assert.Equal(new[] { "warm", "teal", "txt noun multicolor", "goat", "square red" }, attributes.Select(a => a.Value));
    }

    private static void AssertShows(RgbaImage image, NounsPart part, Func<int, bool> where)
    {
        var pixels = part.OpaquePixels;
        var rgb = part.OpaqueRgb;
        for (int k = 0; k < pixels.Length; k++)
        {
            if (!where(pixels[k])) continue;
            Assert.Equal(rgb.Slice(3 * k, 3).ToArray(), image.Pixels.AsSpan(4 * pixels[k], 3).ToArray());
        }
    }

    private static int Int(Match m, int group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    private static (byte R, byte G, byte B) Rgb(string hex)
    {
        int v = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return ((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }
}
