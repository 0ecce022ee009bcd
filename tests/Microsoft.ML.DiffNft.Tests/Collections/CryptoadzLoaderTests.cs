using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Collections.CollectionTestData;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>CrypToadz (CC0, tests/data/cryptoadz): JSON Lines, long CSV and the 36×36 atlas, checked against its README.</summary>
public class CryptoadzLoaderTests
{
    // Token counts per trait type from tests/data/cryptoadz/README.md.
    private static readonly Dictionary<string, int> ReadmeCounts = new()
    {
        ["Background"] = 6880, ["Body"] = 6880, ["Size"] = 6880, ["Eyes"] = 4002, ["Head"] = 3722, ["Accessory II"] = 3362,
        ["Mouth"] = 3358, ["Accessory I"] = 1180, ["Clothes"] = 192, ["Custom"] = 145, ["Name"] = 63, ["# Traits"] = 7025,
    };

    [Fact]
    public void JsonLinesGivesReadmeTokenAndTraitCounts()
    {
        var c = Cryptoadz;
        Assert.Equal(7025, c.Count);
        Assert.Equal(ReadmeCounts.Keys.Order(), c.TraitTypes.Order());
        foreach (var (traitType, count) in ReadmeCounts)
            Assert.Equal(count, c.Tokens.Count(t => t.Find(traitType) is not null));
        // Ids 1–6969 plus the 56 customs 1000000 … 56000000.
        Assert.Equal(Enumerable.Range(1, 6969).Select(i => i.ToString()).Concat(Enumerable.Range(1, 56).Select(i => (i * 1000000).ToString())),
            c.Tokens.Select(t => t.TokenId));
        Assert.All(c.Tokens, t => Assert.InRange(t.Attributes.Count, 2, 9));

        // "# Traits" is a JSON number everywhere, every other trait a string.
        Assert.All(c.Tokens, t => Assert.Equal(NftValueKind.Number, t.Find("# Traits")!.Kind));
        Assert.All(c.Tokens.SelectMany(t => t.Attributes).Where(a => a.TraitType != "# Traits"), a => Assert.Equal(NftValueKind.String, a.Kind));

        var first = c.Tokens[0];
        Assert.Equal("CrypToadz #1", first.Name);
        Assert.Equal("4", first.Find("# Traits")!.Value);
        Assert.Equal("95", first.Find("Background")!.Value);
        Assert.Equal(NftValueKind.String, first.Find("Background")!.Kind);
        Assert.Equal("ipfs://QmaYnXtmcJAjgbeidLaPUKwS2yKgxPsFpJauK4vLPHDn9h", first.ImageUri);
        Assert.Equal("https://cryptoadz.io", (string?)first.Extra!["external_url"]);
        Assert.Equal("cryptoadz", c.Name);
    }

    [Fact]
    public void LongCsvGivesTheSameCollectionAsJsonLines()
    {
        string csv = Path.Combine(CryptoadzDir, "attributes.csv");
        Assert.Equal(NftCollectionFormat.LongCsv, NftCollectionLoader.DetectFormat(csv));
        var fromCsv = NftCollectionLoader.Load(csv, new NftCollectionLoadOptions { LoadImages = false });
        AssertSameTokens(Cryptoadz, fromCsv);
        Assert.Null(fromCsv.Tokens[0].Image);
    }

    [Fact]
    public void FolderLoadPicksJsonLinesAndTheAtlas()
    {
        Assert.Equal(NftCollectionFormat.JsonLines, NftCollectionLoader.DetectFormat(CryptoadzDir));
        var c = Cryptoadz;
        Assert.True(c.HasImages);
        Assert.All(c.Tokens, t => Assert.True(t.Image!.Width == 36 && t.Image.Height == 36));
        Assert.Equal(7025, c.Tokens.Count(t => t.Image is not null));
    }

    [Fact]
    public void AtlasTilesMatchPixelsDecodedIndependently()
    {
        var byId = Cryptoadz.Tokens.ToDictionary(t => t.TokenId);
        // Known answers from a separate PNG decoder (Python zlib + unfiltering) reading the atlas at the index's x,y.
        AssertPixel(byId["1"].Image!, 0, 0, 0, 128, 128);
        AssertPixel(byId["1"].Image!, 18, 18, 255, 14, 14);
        AssertPixel(byId["1"].Image!, 35, 35, 0, 128, 128);
        AssertPixel(byId["6969"].Image!, 17, 20, 243, 139, 124);   // tile 6968 at (2448, 2484)
        AssertPixel(byId["1000000"].Image!, 18, 12, 255, 255, 255); // tile 6969 at (2484, 2484)
        AssertPixel(byId["56000000"].Image!, 10, 25, 226, 178, 127); // tile 7024 at (864, 2520)
        Assert.Equal(11, Distinct(byId["1"].Image!));

        // Every tile is the crop at the index's (x, y) and also at tile_index's row-major place (100 per row).
        var sheet = PngCodec.Load(Path.Combine(CryptoadzDir, "images-36x36-atlas.png"));
        var atlas = new ImageAtlas(sheet, 36, 36);
        Assert.Equal(100, atlas.Columns);
        var lines = File.ReadAllLines(Path.Combine(CryptoadzDir, "atlas-index.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(7025, lines.Count);
        foreach (var f in lines.Where((_, i) => i % 97 == 0 || i == lines.Count - 1))
        {
            var tile = byId[f[0]].Image!;
            Assert.True(tile.PixelEquals(sheet.Crop(int.Parse(f[2]), int.Parse(f[3]), 36, 36)), $"token {f[0]}");
            Assert.True(tile.PixelEquals(atlas.GetTile(int.Parse(f[1]))), $"token {f[0]} by tile index");
        }
    }

    [Fact]
    public void AtlasTileSizeIsInferredFromIndexOffsetsWhenTheNameHasNone()
    {
        using var tmp = new TempDir();
        // A 3×2 grid of 4×3 tiles; the sheet's name says nothing about the tile size.
        var sheet = new RgbaImage(12, 6);
        for (int t = 0; t < 6; t++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                    sheet.SetPixel(t % 3 * 4 + x, t / 3 * 3 + y, (byte)(t * 40), (byte)x, (byte)y);
        PngCodec.Save(sheet, Path.Combine(tmp.Path, "atlas.png"));
        tmp.File("atlas_index.csv", "token_id,x,y\n5,0,0\n6,4,0\n7,8,0\n8,0,3\n9,4,3\n");
        tmp.File("traits.csv", "token_id,Color\n5,a\n6,b\n7,c\n8,d\n9,e\n");
        var c = NftCollectionLoader.Load(tmp.Path);
        Assert.All(c.Tokens, t => Assert.Equal((4, 3), (t.Image!.Width, t.Image.Height)));
        Assert.Equal(4 * 40, c.Tokens[4].Image!.Pixels[0]);     // token 9 is tile 4
        Assert.Equal(3, c.Tokens[2].Image!.Pixels[(2 * 4 + 3) * 4 + 1]); // x = 3 at row 2 of token 7

        // tile_index alone works when the size is given; a tile outside the sheet names the index line.
        tmp.File("atlas_index.csv", "token_id,tile_index\n5,0\n6,1\n7,2\n8,3\n9,6\n");
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(tmp.Path, new NftCollectionLoadOptions { AtlasTileWidth = 4, AtlasTileHeight = 3 }));
        Assert.Contains("atlas_index.csv', line 6", e.Message);
    }

    private static void AssertPixel(RgbaImage image, int x, int y, byte r, byte g, byte b)
    {
        int i = (y * image.Width + x) * 4;
        Assert.Equal(new byte[] { r, g, b, 255 }, image.Pixels[i..(i + 4)]);
    }

    private static int Distinct(RgbaImage image) =>
        Enumerable.Range(0, image.Width * image.Height).Select(p => BitConverter.ToInt32(image.Pixels, p * 4)).Distinct().Count();
}
