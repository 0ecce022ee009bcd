using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Formats;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>Per-token folders, JSON value kinds, untyped values, CSV quoting and format detection.</summary>
public class FormatTests
{
    [Fact]
    public void FolderOfPerTokenFilesUsesFileNamesAndSkipsTheSummary()
    {
        using var tmp = new TempDir();
        // HashLips writes {id}.json with edition/dna fields; some servers drop the extension; _metadata.json is a summary.
        tmp.File("10.json", "{\"name\": \"T #10\", \"edition\": 10, \"dna\": \"ab\", \"attributes\": [{\"trait_type\": \"Eyes\", \"value\": \"Red\"}]}");
        tmp.File("2", "{\"name\": \"T #2\", \"attributes\": [{\"trait_type\": \"Eyes\", \"value\": \"Blue\"}, {\"trait_type\": \"Level\", \"value\": 3, \"display_type\": \"number\", \"max_value\": 10}]}");
        tmp.File("1.json", "{\"name\": \"Wrong name #99\", \"attributes\": [{\"trait_type\": \"Mood\", \"value\": true}, {\"value\": \"Shiny\"}, {\"trait_type\": \"\", \"value\": \"Odd\"}, {\"trait_type\": \"Gone\", \"value\": null}]}");
        tmp.File("_metadata.json", "[{\"token_id\": 1, \"attributes\": []}]");
        tmp.File("README.md", "not metadata");
        Assert.Equal(NftCollectionFormat.TokenFiles, NftCollectionLoader.DetectFormat(tmp.Path));

        var c = NftCollectionLoader.Load(tmp.Path);
        Assert.Equal(["1", "2", "10"], c.Tokens.Select(t => t.TokenId)); // numeric order; the file name wins over "#99"
        var t1 = c.Tokens[0];
        Assert.Equal(
            [new NftAttribute("Mood", "true", NftValueKind.Boolean), new NftAttribute(NftAttribute.UntypedTraitType, "Shiny"),
             new NftAttribute("(untyped) 2", "Odd")],
            t1.Attributes); // null value = absent
        Assert.Equal(new NftAttribute("Level", "3", NftValueKind.Number, "number", "10"), c.Tokens[1].Find("Level"));
        Assert.Equal(10, (int)c.Tokens[2].Extra!["edition"]!);
        Assert.Equal("ab", (string?)c.Tokens[2].Extra!["dna"]);

        // Without per-token files the summary is used.
        foreach (var f in new[] { "10.json", "2", "1.json" }) File.Delete(Path.Combine(tmp.Path, f));
        Assert.Equal(NftCollectionFormat.JsonArray, NftCollectionLoader.DetectFormat(tmp.Path));
        Assert.Equal(["1"], NftCollectionLoader.Load(tmp.Path).Tokens.Select(t => t.TokenId));
    }

    [Fact]
    public void PerTokenFilesNotNamedByIdNeedTheExplicitFormat()
    {
        using var tmp = new TempDir();
        tmp.File("TOADZ_2.json", "{\"name\": \"CrypToadz #2\", \"attributes\": [{\"trait_type\": \"Body\", \"value\": \"Lasagna\"}]}");
        tmp.File("TOADZ_10.json", "{\"token_id\": 10, \"attributes\": []}");
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(tmp.Path));
        Assert.Contains("set Format = TokenFiles", e.Message);
        tmp.File("_metadata.json", "[]"); // skipped when reading per-token files
        var c = NftCollectionLoader.Load(tmp.Path, new NftCollectionLoadOptions { Format = NftCollectionFormat.TokenFiles });
        Assert.Equal(["2", "10"], c.Tokens.Select(t => t.TokenId));
        tmp.File("TOADZ_x.json", "{\"name\": \"CrypToadz #10\"}");
        e = Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(tmp.Path, new NftCollectionLoadOptions { Format = NftCollectionFormat.TokenFiles }));
        Assert.Contains("Token id 10 appears twice", e.Message);
        Assert.Contains("TOADZ_x.json", e.Message);
    }

    [Fact]
    public void NumbersKeepTheirExactJsonText()
    {
        using var tmp = new TempDir();
        string path = tmp.File("c.jsonl",
            "{\"token_id\": 1, \"attributes\": [{\"trait_type\": \"A\", \"value\": 1.50}, {\"trait_type\": \"B\", \"value\": -2e3}, {\"trait_type\": \"C\", \"value\": 12345678901234567890}]}\n" +
            "{\"token_id\": \"2\", \"name\": \"x\", \"attributes\": {\"A\": 0, \"B\": \"0\", \"C\": false}}\n");
        var c = NftCollectionLoader.Load(path);
        Assert.Equal(["1.50", "-2e3", "12345678901234567890"], c.Tokens[0].Attributes.Select(a => a.Value));
        Assert.All(c.Tokens[0].Attributes, a => Assert.True(a.IsNumeric));
        Assert.Equal([NftValueKind.Number, NftValueKind.String, NftValueKind.Boolean], c.Tokens[1].Attributes.Select(a => a.Kind));
    }

    [Fact]
    public void CsvReaderFollowsRfc4180()
    {
        var csv = new CsvReader("a,\"b,1\",\"say \"\"hi\"\"\"\r\n\r\n\"multi\nline\",,x\n\"\",\"\"\n", "t.csv");
        var fields = new List<string>();
        Assert.True(csv.TryReadRecord(fields, out int line));
        Assert.Equal(1, line);
        Assert.Equal(["a", "b,1", "say \"hi\""], fields);
        Assert.True(csv.TryReadRecord(fields, out line));
        Assert.Equal(3, line);
        Assert.Equal(["multi\nline", "", "x"], fields);
        Assert.True(csv.TryReadRecord(fields, out line));
        Assert.Equal(5, line);
        Assert.Equal(["", ""], fields);
        Assert.False(csv.TryReadRecord(fields, out _));
    }

    [Fact]
    public void WideCsvReadsQuotedCellsAndEmptyCellsAsAbsent()
    {
        using var tmp = new TempDir();
        string path = tmp.File("wide.csv", "\uFEFFtoken_id,\"Hat, Big\",Quote\r\n3,\"red, wide\",\"he said \"\"gm\"\"\"\r\n4,,\"two\nlines\"\r\n");
        Assert.Equal(NftCollectionFormat.WideCsv, NftCollectionLoader.DetectFormat(path));
        var c = NftCollectionLoader.Load(path);
        Assert.Equal(["Hat, Big", "Quote"], c.TraitTypes);
        Assert.Equal([new NftAttribute("Hat, Big", "red, wide"), new NftAttribute("Quote", "he said \"gm\"")], c.Tokens[0].Attributes);
        Assert.Equal([new NftAttribute("Quote", "two\nlines")], c.Tokens[1].Attributes);
    }

    [Fact]
    public void ExplicitFormatPicksTheMatchingFileInAFolder()
    {
        var dir = CollectionTestData.CryptoadzDir;
        var options = new NftCollectionLoadOptions { Format = NftCollectionFormat.LongCsv, LoadImages = false };
        var c = NftCollectionLoader.Load(dir, options);
        Assert.Equal(7025, c.Count);
        Assert.Null(c.Tokens[0].Image);
    }

    [Fact]
    public void ImagesFolderMatchesZeroPaddedNamesAndSkipsUnknownIds()
    {
        using var tmp = new TempDir();
        tmp.File("traits.csv", "token_id,A\n1,x\n2,y\n3,z\n");
        var red = new RgbaImage(2, 2);
        red.Fill(255, 0, 0);
        var green = new RgbaImage(2, 2);
        green.Fill(0, 255, 0, 128);
        PngCodec.Save(red, Path.Combine(tmp.Path, "images", "0001.png"));
        PngCodec.Save(green, Path.Combine(tmp.Path, "images", "3.png"));
        PngCodec.Save(green, Path.Combine(tmp.Path, "images", "77.png"));
        var c = NftCollectionLoader.Load(tmp.Path);
        Assert.True(c.Tokens[0].Image!.PixelEquals(red));
        Assert.Null(c.Tokens[1].Image);
        Assert.True(c.Tokens[2].Image!.PixelEquals(green)); // straight alpha survives
        Assert.False(c.HasImages);
        Assert.Null(NftCollectionLoader.Load(tmp.Path, new NftCollectionLoadOptions { LoadImages = false }).Tokens[0].Image);

        PngCodec.Save(red, Path.Combine(tmp.Path, "images", "1.png"));
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(tmp.Path));
        Assert.Contains("Token 1 has two images", e.Message);
    }

    [Fact]
    public void TileSizeIsReadFromAtlasNames()
    {
        Assert.True(ImageAtlas.TryParseTileSize("images-36x36-atlas.png", out int w, out int h));
        Assert.Equal((36, 36), (w, h));
        Assert.True(ImageAtlas.TryParseTileSize("sheet_24×32.png", out w, out h));
        Assert.Equal((24, 32), (w, h));
        Assert.False(ImageAtlas.TryParseTileSize("atlas.png", out _, out _));
        Assert.True(ImageAtlas.TryInferTileSize([(0, 0), (0, 48), (0, 96)], out w, out h));
        Assert.Equal((48, 48), (w, h)); // one column: square tiles assumed
    }
}
