using Microsoft.ML.DiffNft.Collections.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>Parsing of image-data.json: layer sizes, trait names, run-length decoding and error messages.</summary>
public class NounsArtTests
{
    [Fact]
    public void BuiltInArtHasTheDocumentedLayerSizes()
    {
        var art = NounsArt.Default;
        Assert.Equal(2, art.PartCount(NounsLayer.Background));
        Assert.Equal(30, art.PartCount(NounsLayer.Body));
        Assert.Equal(143, art.PartCount(NounsLayer.Accessory));
        Assert.Equal(254, art.PartCount(NounsLayer.Head));
        Assert.Equal(23, art.PartCount(NounsLayer.Glasses));
        Assert.Equal(50_124_360, art.CombinationCount);
    }

    [Fact]
    public void ExactlyOnePartIsEmptyAndItIsAccessoryNone()
    {
        var art = NounsArt.Default;
        var empty = NounsLayers.DrawOrder.SelectMany(art.Parts).Where(p => p.IsEmpty).ToList();
        var none = Assert.Single(empty);
        Assert.Equal("accessory-none", none.FileName);
        Assert.Equal(70, none.Index);
        Assert.Equal("none", none.TraitValue);
    }

    [Theory]
    [InlineData((int)NounsLayer.Body, 28, "body-teal", "teal")]
    [InlineData((int)NounsLayer.Accessory, 120, "accessory-txt-noun-multicolor", "txt noun multicolor")]
    [InlineData((int)NounsLayer.Head, 95, "head-goat", "goat")]
    [InlineData((int)NounsLayer.Glasses, 15, "glasses-square-red", "square red")]
    [InlineData((int)NounsLayer.Background, 0, "d5d7e1", "cool")]
    [InlineData((int)NounsLayer.Background, 1, "e1d7d5", "warm")]
    public void TraitValuesDropTheLayerPrefixAndUseSpaces(int layerNumber, int index, string fileName, string value)
    {
        var layer = (NounsLayer)layerNumber;
        var part = NounsArt.Default.Part(layer, index);
        Assert.Equal(fileName, part.FileName);
        Assert.Equal(value, part.TraitValue);
        Assert.Same(part, NounsArt.Default.FindPart(fileName));
        Assert.Same(part, NounsArt.Default.FindByTraitValue(layer, value));
    }

    [Fact]
    public void AccessoriesNamedAfterBodyPatternsKeepTheirWholeName()
    {
        // Four accessories are named body-… rather than accessory-…; stripping "body" would hide what they are.
        var part = NounsArt.Default.FindPart("body-bege");
        Assert.NotNull(part);
        Assert.Equal(NounsLayer.Accessory, part.Layer);
        Assert.Equal("body bege", part.TraitValue);
    }

    [Fact]
    public void TraitValuesAreUniqueWithinEachLayer()
    {
        foreach (var layer in NounsLayers.DrawOrder)
        {
            var values = NounsArt.Default.Parts(layer).Select(p => p.TraitValue).ToList();
            Assert.Equal(values.Count, values.Distinct(StringComparer.Ordinal).Count());
        }
    }

    [Fact]
    public void PartsLieOnTheGridWithOneColourPerPixel()
    {
        foreach (var part in NounsLayers.DrawOrder.SelectMany(NounsArt.Default.Parts))
        {
            var pixels = part.OpaquePixels.ToArray();
            Assert.All(pixels, p => Assert.InRange(p, 0, NounsArt.PixelCount - 1));
            Assert.Equal(pixels.Length, pixels.Distinct().Count());
            Assert.Equal(3 * pixels.Length, part.OpaqueRgb.Length);
            var image = part.ToImage();
            Assert.Equal(pixels.Length, Enumerable.Range(0, NounsArt.PixelCount).Count(p => image.Pixels[4 * p + 3] == 255));
        }
        Assert.All(NounsArt.Default.Parts(NounsLayer.Background), b => Assert.Equal(NounsArt.PixelCount, b.OpaqueCount));
    }

    [Fact]
    public void RunLengthDecodingFollowsTheBoundingBoxAndWrapsRows()
    {
        // Palette 1 = red, 2 = green. Box top 3, right 6 (exclusive), bottom 4 (inclusive), left 4: 2×2 cells.
        // Runs: 3 × red (wraps from row 3 onto row 4), 1 × transparent.
        string json = """
            { "bgcolors": ["000000"], "palette": ["", "ff0000", "00ff00"],
              "images": { "bodies": [ { "filename": "body-a", "data": "0x00030604040301 0100" } ],
                          "accessories": [ { "filename": "accessory-none", "data": "0x0000000000" } ],
                          "heads": [ { "filename": "head-a", "data": "0x00000100000102" } ],
                          "glasses": [ { "filename": "glasses-a", "data": "0x001f201f1f0102" } ] } }
            """.Replace("0301 0100", "03010100");
        var art = NounsArt.Parse(json, "inline.json");
        var body = art.Part(NounsLayer.Body, 0);
        Assert.Equal(new[] { 3 * 32 + 4, 3 * 32 + 5, 4 * 32 + 4 }, body.OpaquePixels.ToArray());
        Assert.Equal(new byte[] { 255, 0, 0, 255, 0, 0, 255, 0, 0 }, body.OpaqueRgb.ToArray());
        Assert.Equal(new[] { 0 }, art.Part(NounsLayer.Head, 0).OpaquePixels.ToArray());
        Assert.Equal(new[] { 1023 }, art.Part(NounsLayer.Glasses, 0).OpaquePixels.ToArray());
        Assert.True(art.Part(NounsLayer.Accessory, 0).IsEmpty);
    }

    [Fact]
    public void SdkTestVectorLoadsByFileNamePrefix()
    {
        var art = NounsArt.Load(NounsTestData.SdkImageData, ["d5d7e1"]);
        Assert.Equal("body-redpinkish", Assert.Single(art.Parts(NounsLayer.Body)).FileName);
        Assert.Equal("accessory-body-gradient-dawn", Assert.Single(art.Parts(NounsLayer.Accessory)).FileName);
        Assert.Equal("head-ape", Assert.Single(art.Parts(NounsLayer.Head)).FileName);
        Assert.Equal("glasses-square-honey", Assert.Single(art.Parts(NounsLayer.Glasses)).FileName);
        Assert.Equal("cool", Assert.Single(art.Parts(NounsLayer.Background)).TraitValue);
    }

    [Fact]
    public void FileWithoutBackgroundsNeedsThemPassedIn()
    {
        var ex = Assert.Throws<InvalidDataException>(() => NounsArt.Load(NounsTestData.SdkImageData));
        Assert.Contains("image-data.json", ex.Message);
        Assert.Contains("bgcolors", ex.Message);
    }

    [Theory]
    [InlineData("0x0003060404zz", "hex string")]
    [InlineData("0x000306040403", "5 header bytes")]
    [InlineData("0x00030604040501", "cover more than")]
    [InlineData("0x00030604040101", "cover 1 cells")]
    [InlineData("0x00032104040401", "does not fit")]
    [InlineData("0x00030604040409", "palette index 9")]
    public void MalformedPartDataIsReportedWithItsLocation(string data, string expected)
    {
        string json = $$"""
            { "bgcolors": ["000000"], "palette": ["", "ff0000"],
              "images": { "bodies": [ { "filename": "body-bad", "data": "{{data}}" } ],
                          "accessories": [], "heads": [], "glasses": [] } }
            """;
        var ex = Assert.Throws<InvalidDataException>(() => NounsArt.Parse(json, "broken.json"));
        Assert.Contains("broken.json", ex.Message);
        Assert.Contains("images.bodies[0]", ex.Message);
        Assert.Contains("body-bad", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("{ \"palette\": [\"\"], \"images\": {} }", "bgcolors")]
    [InlineData("{ \"palette\": [\"\"], ", "not valid JSON")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("{ \"bgcolors\": [\"000000\"], \"palette\": [\"\", \"red\"], \"images\": {} }", "palette[1]")]
    [InlineData("{ \"bgcolors\": [\"000000\"], \"palette\": [\"\"], \"images\": { \"bodies\": [] } }", "images.bodies' is empty")]
    [InlineData("{ \"bgcolors\": [\"00000\"], \"palette\": [\"\"], \"images\": {} }", "bgcolors[0]")]
    public void MalformedFilesGetClearMessages(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => NounsArt.Parse(json, "file.json"));
        Assert.Contains("file.json", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void DefaultArtIsParsedOnceAcrossThreads()
    {
        var seen = new NounsArt[8];
        Parallel.For(0, seen.Length, i => seen[i] = NounsArt.Default);
        Assert.All(seen, a => Assert.Same(NounsArt.Default, a));
    }

    [Fact]
    public void OutOfRangePartNamesLayerAndRange()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NounsArt.Default.Part(NounsLayer.Glasses, 23));
        Assert.Contains("Glasses index 23", ex.Message);
        Assert.Contains("0 to 22", ex.Message);
    }
}
