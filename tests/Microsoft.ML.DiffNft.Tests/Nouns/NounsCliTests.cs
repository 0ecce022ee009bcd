using System.Text;
using System.Text.Json;
using DiffNft.Cli;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>The <c>diffnft collection nouns</c>, <c>nouns render</c> and <c>nouns decode</c> commands, run in-process.</summary>
public class NounsCliTests(ITestOutputHelper output)
{
    private static readonly string[] s_traitTypes = ["Background", "Body", "Accessory", "Head", "Glasses"];

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        output.WriteLine($"diffnft {string.Join(' ', args)} → {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void RenderReproducesTheGoldenNoun()
    {
        using var tmp = new NounsTestData.TempDir();
        string file = Path.Combine(tmp.Path, "noun116.png");
        var (code, stdout, _) = Run("nouns", "render", "--seed", "1,28,120,95,15", "--out", file);
        Assert.Equal(0, code);
        Assert.Contains("head goat", stdout);
        NounsTestData.AssertSameRgb(PngCodec.Load(NounsTestData.GoldenNoun116), PngCodec.Load(file));

        string big = Path.Combine(tmp.Path, "big.png");
        Assert.Equal(0, Run("nouns", "render", "--seed", "1,28,120,95,15", "--scale", "10", "--out", big).Code);
        var scaled = PngCodec.Load(big);
        Assert.Equal(320, scaled.Width);
        NounsTestData.AssertSameRgb(PngCodec.Load(NounsTestData.GoldenNoun116).ScaleNearest(10), scaled);
    }

    [Theory]
    [InlineData("1,28,120,300,15", "Head index 300")]
    [InlineData("1,28,120", "five comma-separated")]
    public void RenderRejectsBadSeedsWithOneLine(string seed, string expected)
    {
        using var tmp = new NounsTestData.TempDir();
        var (code, _, stderr) = Run("nouns", "render", "--seed", seed, "--out", Path.Combine(tmp.Path, "x.png"));
        Assert.Equal(1, code);
        Assert.StartsWith("diffnft: error:", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void GeneratedCollectionHasOpenSeaMetadataAndDecodesBackToItsTraits()
    {
        using var tmp = new NounsTestData.TempDir();
        string dir = Path.Combine(tmp.Path, "out");
        var (code, _, stderr) = Run("collection", "nouns", "--count", "50", "--seed", "3", "--weights", "zipf:1.0",
            "--parts", "bodies=8,accessories=10,heads=12,glasses=8", "--out", dir);
        Assert.Equal(0, code);
        Assert.Contains("wrote 50/50 tokens", stderr);

        var expected = new Dictionary<string, string[]>();
        using (var all = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "_metadata.json"))))
        {
            Assert.Equal(JsonValueKind.Array, all.RootElement.ValueKind);
            Assert.Equal(50, all.RootElement.GetArrayLength());
            int i = 0;
            foreach (var entry in all.RootElement.EnumerateArray())
            {
                Assert.Equal(i, entry.GetProperty("token_id").GetInt32()); // a JSON number, as OpenSea tools write it
                string perToken = File.ReadAllText(Path.Combine(dir, "metadata", $"{i}.json"));
                using var single = JsonDocument.Parse(perToken);
                var root = single.RootElement;
                Assert.Equal(new[] { "name", "description", "image", "attributes" }, root.EnumerateObject().Select(p => p.Name));
                Assert.Equal($"Noun {i}", root.GetProperty("name").GetString());
                Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("description").GetString()));
                Assert.Equal($"images/{i}.png", root.GetProperty("image").GetString());
                var attributes = root.GetProperty("attributes").EnumerateArray().ToList();
                Assert.Equal(s_traitTypes, attributes.Select(a => a.GetProperty("trait_type").GetString()));
                Assert.All(attributes, a => Assert.Equal(JsonValueKind.String, a.GetProperty("value").ValueKind));
                expected[$"{i}.png"] = attributes.Select(a => a.GetProperty("value").GetString()!).ToArray();
                // _metadata.json holds the same object plus token_id.
                Assert.Equal(JsonSerializer.Serialize(root.GetProperty("attributes")), JsonSerializer.Serialize(entry.GetProperty("attributes")));
                Assert.Equal(root.GetProperty("name").GetString(), entry.GetProperty("name").GetString());

                var image = PngCodec.Load(Path.Combine(dir, "images", $"{i}.png"));
                Assert.Equal((32, 32), (image.Width, image.Height));
                i++;
            }
        }

        var captions = ReadCsv(Path.Combine(dir, "captions.csv"));
        Assert.Equal(new[] { "token_id", "caption" }, captions[0]);
        Assert.Equal(51, captions.Count);
        var first = expected["0.png"];
        Assert.Equal(new[] { "0", $"a noun, body {first[1]}, accessory {first[2]}, head {first[3]}, glasses {first[4]}" }, captions[1]);

        // Decode the folder (its images/ subfolder is found automatically) and compare with the metadata.
        string csv = Path.Combine(tmp.Path, "traits.csv");
        (code, _, _) = Run("nouns", "decode", "--images", dir, "--out", csv);
        Assert.Equal(0, code);
        string text = File.ReadAllText(csv);
        Assert.StartsWith("file,background,body,accessory,head,glasses,max_distance,decodable\n", text);
        var rows = ReadCsv(csv).Skip(1).ToList();
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), rows.Select(r => r[0]));
        foreach (var row in rows)
        {
            Assert.Equal(expected[row[0]], row.Skip(1).Take(5));
            Assert.Equal("0", row[6]);
            Assert.Equal("true", row[7]);
        }
    }

    [Fact]
    public void DecodeQuotesFileNamesAndRejectsWrongSizes()
    {
        using var tmp = new NounsTestData.TempDir();
        string images = Path.Combine(tmp.Path, "imgs");
        Directory.CreateDirectory(images);
        File.Copy(NounsTestData.GoldenNoun116, Path.Combine(images, "noun, 116.png"));
        string csv = Path.Combine(tmp.Path, "t.csv");
        Assert.Equal(0, Run("nouns", "decode", "--images", images, "--out", csv).Code);
        var rows = ReadCsv(csv);
        Assert.Equal(new[] { "noun, 116.png", "warm", "teal", "txt noun multicolor", "goat", "square red", "0", "true" }, rows[1]);
        Assert.Contains("\"noun, 116.png\"", File.ReadAllText(csv));

        // An enlarged Noun (as `collection nouns --scale 4` or a 128×128 latent model makes) is reduced to 32×32 first:
        // nearest-neighbour enlargement comes back exactly, with distance 0.
        var golden = PngCodec.Load(NounsTestData.GoldenNoun116);
        var big = new RgbaImage(128, 128);
        for (int y = 0; y < 128; y++)
            for (int x = 0; x < 128; x++)
            {
                int i = 4 * (y / 4 * 32 + x / 4);
                big.SetPixel(x, y, golden.Pixels[i], golden.Pixels[i + 1], golden.Pixels[i + 2]);
            }
        string bigDir = Path.Combine(tmp.Path, "big");
        Directory.CreateDirectory(bigDir);
        PngCodec.Save(big, Path.Combine(bigDir, "big.png"));
        Assert.Equal(0, Run("nouns", "decode", "--images", bigDir, "--out", csv).Code);
        Assert.Equal(new[] { "big.png", "warm", "teal", "txt noun multicolor", "goat", "square red", "0", "true" }, ReadCsv(csv)[1]);
        PngCodec.Save(new RgbaImage(48, 48), Path.Combine(bigDir, "odd.png"));
        var odd = Run("nouns", "decode", "--images", bigDir, "--out", csv);
        Assert.Equal(1, odd.Code);
        Assert.Contains("odd.png' is 48×48", odd.Err);
        Assert.Contains("multiple of 32", odd.Err);

        PngCodec.Save(new RgbaImage(40, 32), Path.Combine(images, "wide.png"));
        var (code, _, stderr) = Run("nouns", "decode", "--images", images, "--out", csv);
        Assert.Equal(1, code);
        Assert.Contains("wide.png", stderr);
        Assert.Contains("40×32", stderr);

        var empty = Path.Combine(tmp.Path, "empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("No images", Run("nouns", "decode", "--images", empty, "--out", csv).Err);
    }

    [Theory]
    [InlineData("--weights", "zipf:abc", "Zipf exponent 'abc'")]
    [InlineData("--weights", "normal", "expected 'uniform' or 'zipf:EXPONENT'")]
    [InlineData("--parts", "heads=999", "only 254")]
    [InlineData("--parts", "hats=3", "unknown layer 'hats'")]
    [InlineData("--count", "0", "--count must be at least 1")]
    public void CollectionRejectsBadOptionsWithOneLine(string option, string value, string expected)
    {
        using var tmp = new NounsTestData.TempDir();
        var args = new List<string> { "collection", "nouns", "--count", "5", "--out", Path.Combine(tmp.Path, "o") };
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);
        var (code, _, stderr) = Run([.. args]);
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void TooManyUniqueTokensForThePartsIsExplained()
    {
        using var tmp = new NounsTestData.TempDir();
        var (code, _, stderr) = Run("collection", "nouns", "--count", "40", "--parts", "backgrounds=1,bodies=2,accessories=2,heads=3,glasses=3",
            "--out", Path.Combine(tmp.Path, "o"));
        Assert.Equal(1, code);
        Assert.Contains("only 36 combinations", stderr);
    }

    /// <summary>A small RFC 4180 reader (quoted fields with commas and doubled quotes).</summary>
    private static List<string[]> ReadCsv(string path)
    {
        var rows = new List<string[]>();
        foreach (var line in File.ReadAllLines(path))
        {
            var fields = new List<string>();
            var field = new StringBuilder();
            bool quoted = false;
            for (int i = 0; i < line.Length; i++)
            {
                char c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else field.Append(c);
                }
                else if (c == '"') quoted = true;
                else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                else field.Append(c);
            }
            fields.Add(field.ToString());
            rows.Add([.. fields]);
        }
        return rows;
    }

    [Fact]
    public void ScaleRendersTheSameArtAtAHigherResolution()
    {
        using var tmp = new NounsTestData.TempDir();
        string small = Path.Combine(tmp.Path, "x1"), large = Path.Combine(tmp.Path, "x4");
        Assert.Equal(0, Run("collection", "nouns", "--count", "6", "--seed", "3", "--out", small).Code);
        Assert.Equal(0, Run("collection", "nouns", "--count", "6", "--seed", "3", "--scale", "4", "--out", large).Code);
        for (int i = 0; i < 6; i++)
        {
            var a = PngCodec.Load(Path.Combine(small, "images", $"{i}.png"));
            var b = PngCodec.Load(Path.Combine(large, "images", $"{i}.png"));
            Assert.Equal((32, 32, 128, 128), (a.Width, a.Height, b.Width, b.Height));
            Assert.True(a.ScaleNearest(4).PixelEquals(b), $"token {i}: the 128×128 image is not the 32×32 one enlarged 4× by nearest neighbour");
            // Every art pixel is a uniform 4×4 block: sampling one pixel per block gives the 32×32 image back exactly.
            var back = new RgbaImage(32, 32);
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    Buffer.BlockCopy(b.Pixels, ((4 * y + 2) * 128 + 4 * x + 1) * 4, back.Pixels, (y * 32 + x) * 4, 4);
            Assert.True(back.PixelEquals(a));
        }
        Assert.Equal(File.ReadAllText(Path.Combine(small, "_metadata.json")), File.ReadAllText(Path.Combine(large, "_metadata.json")));
        var (code, _, stderr) = Run("collection", "nouns", "--count", "2", "--scale", "0", "--out", Path.Combine(tmp.Path, "bad"));
        Assert.Equal(1, code);
        Assert.Contains("--scale must lie in 1 … 32; got 0", stderr);
    }
}
