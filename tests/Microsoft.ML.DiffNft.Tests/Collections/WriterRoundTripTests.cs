using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Collections.CollectionTestData;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>Load(Write(c)) gives c back: values, kinds, display types, extra fields and images.</summary>
public class WriterRoundTripTests
{
    private static NftCollection MakeCollection()
    {
        var rng = new Random(11);
        var tokens = new List<NftToken>();
        for (int i = 0; i < 6; i++)
        {
            var image = new RgbaImage(8, 6);
            rng.NextBytes(image.Pixels); // includes semi-transparent pixels: straight alpha must survive PNG
            var attributes = new List<NftAttribute>
            {
                new("Background", i % 2 == 0 ? "Blue, \"dark\"" : "Grün"),
                new("Level", (i * 7).ToString(), NftValueKind.Number, "number", "35"),
                new("Power", i == 3 ? "-1.25e2" : "0.5", NftValueKind.Number, "boost_percentage"),
                new("Shiny", i % 3 == 0 ? "true" : "false", NftValueKind.Boolean),
            };
            if (i == 2) attributes.Add(new(NftAttribute.UntypedTraitType, "Generic"));
            if (i == 4) attributes.RemoveAt(0); // a token without Background
            tokens.Add(new NftToken(((i + 1) * 5).ToString(), attributes)
            {
                Name = $"Thing #{(i + 1) * 5}",
                Description = i == 1 ? null : "A thing <with> & symbols",
                Extra = i == 0 ? new JsonObject { ["external_url"] = "https://example.invalid/1", ["edition"] = 5, ["tags"] = new JsonArray("a", null) } : null,
                ImageUri = i == 5 ? "ipfs://Qm123" : null,
                Image = image,
            });
        }
        return new NftCollection(tokens, "things");
    }

    [Fact]
    public void FolderRoundTripKeepsEverything()
    {
        using var tmp = new TempDir();
        var original = MakeCollection();
        NftCollectionWriter.Write(original, tmp.Path);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "metadata", "5.json")));
        Assert.True(File.Exists(Path.Combine(tmp.Path, "images", "30.png")));
        Assert.Empty(Directory.EnumerateFiles(tmp.Path, "*.tmp", SearchOption.AllDirectories));

        foreach (var reloaded in new[]
        {
            NftCollectionLoader.Load(tmp.Path),                                   // metadata/ + images/
            NftCollectionLoader.Load(Path.Combine(tmp.Path, "_metadata.json")),   // the summary + sibling images/
            NftCollectionLoader.Load(Path.Combine(tmp.Path, "metadata")),         // the per-token folder + ../images
        })
        {
            AssertSameTokens(original, reloaded, compareImages: true);
            for (int i = 0; i < original.Count; i++)
            {
                AssertSameMetadata(original.Tokens[i], reloaded.Tokens[i]);
                Assert.Equal(original.Tokens[i].ImageUri ?? $"images/{original.Tokens[i].TokenId}.png", reloaded.Tokens[i].ImageUri);
            }
        }
    }

    [Fact]
    public void WrittenJsonUsesOpenSeaTypes()
    {
        using var tmp = new TempDir();
        NftCollectionWriter.Write(MakeCollection(), tmp.Path);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Path, "metadata", "20.json")));
        var attrs = doc.RootElement.GetProperty("attributes");
        Assert.Equal(JsonValueKind.String, attrs[0].GetProperty("value").ValueKind);
        Assert.Equal("21", attrs[1].GetProperty("value").GetRawText());
        Assert.Equal("35", attrs[1].GetProperty("max_value").GetRawText());
        Assert.Equal("number", attrs[1].GetProperty("display_type").GetString());
        Assert.Equal("-1.25e2", attrs[2].GetProperty("value").GetRawText());
        Assert.Equal(JsonValueKind.True, attrs[3].GetProperty("value").ValueKind);
        Assert.False(doc.RootElement.TryGetProperty("token_id", out _));
        Assert.Equal("images/20.png", doc.RootElement.GetProperty("image").GetString());

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Path, "_metadata.json")));
        Assert.Equal(6, summary.RootElement.GetArrayLength());
        Assert.Equal(15, summary.RootElement[2].GetProperty("token_id").GetInt32());
        // The untyped value goes out bare, as OpenSea writes generic properties.
        Assert.False(summary.RootElement[2].GetProperty("attributes")[4].TryGetProperty("trait_type", out _));
    }

    [Fact]
    public void RealCollectionRoundTripsThroughFolderLongCsvAndWideCsv()
    {
        using var tmp = new TempDir();
        var toadz = new NftCollection(Cryptoadz.Tokens.Take(300).ToList(), "toadz");
        NftCollectionWriter.Write(toadz, Path.Combine(tmp.Path, "folder"));
        var folder = NftCollectionLoader.Load(Path.Combine(tmp.Path, "folder"));
        AssertSameTokens(toadz, folder, compareImages: true);
        Assert.Equal(toadz.Tokens[7].ImageUri, folder.Tokens[7].ImageUri);

        string longCsv = Path.Combine(tmp.Path, "long.csv");
        NftCollectionWriter.WriteLongCsv(toadz, longCsv);
        AssertSameTokens(toadz, NftCollectionLoader.Load(longCsv, new NftCollectionLoadOptions { LoadImages = false }));

        // A wide CSV keeps values but not kinds ("# Traits" comes back as the text "4"), and a token's traits come back
        // in column order rather than the order its JSON listed them.
        string wideCsv = Path.Combine(tmp.Path, "wide.csv");
        NftCollectionWriter.WriteWideCsv(toadz, wideCsv);
        var wide = NftCollectionLoader.Load(wideCsv, new NftCollectionLoadOptions { LoadImages = false });
        var column = toadz.TraitTypes.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        var asText = new NftCollection(toadz.Tokens.Select(t => new NftToken(t.TokenId,
            t.Attributes.OrderBy(a => column[a.TraitType]).Select(a => new NftAttribute(a.TraitType, a.Value)).ToList())).ToList());
        Assert.Equal(toadz.TraitTypes, wide.TraitTypes);
        AssertSameTokens(asText, wide);
    }

    [Fact]
    public void WideCsvRoundTripsAwkwardText()
    {
        using var tmp = new TempDir();
        var c = new NftCollection(
        [
            new NftToken("1", [new("Hat, Big", "red, \"wide\""), new("Note", " padded ")]),
            new NftToken("2", [new("Note", "two\nlines\r\nhere")]),
            new NftToken("3", []),
        ]);
        string path = Path.Combine(tmp.Path, "w.csv");
        NftCollectionWriter.WriteWideCsv(c, path);
        var back = NftCollectionLoader.Load(path);
        AssertSameTokens(c, back);
        Assert.Equal(c.TraitTypes, back.TraitTypes);
    }

    [Fact]
    public void ReplacingAnExistingCollectionRemovesStaleFiles()
    {
        using var tmp = new TempDir();
        var original = MakeCollection();
        NftCollectionWriter.Write(original, tmp.Path);
        var smaller = new NftCollection(original.Tokens.Take(2).ToList());
        Assert.Throws<IOException>(() => NftCollectionWriter.Write(smaller, tmp.Path));
        NftCollectionWriter.Write(smaller, tmp.Path, new NftCollectionWriteOptions { ReplaceExisting = true });
        var back = NftCollectionLoader.Load(tmp.Path);
        AssertSameTokens(smaller, back, compareImages: true);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(tmp.Path, "images")).Length);
    }

    [Fact]
    public void WriterRejectsIdsThatWouldNotReloadAndBadNumbers()
    {
        using var tmp = new TempDir();
        var padded = new NftCollection([new NftToken("007", [])]);
        Assert.Contains("'007'", Assert.Throws<ArgumentException>(() => NftCollectionWriter.Write(padded, tmp.Path)).Message);
        var bad = new NftCollection([new NftToken("7", [new NftAttribute("Level", "seven", NftValueKind.Number)])]);
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionWriter.Write(bad, Path.Combine(tmp.Path, "b")));
        Assert.Contains("Token 7, trait 'Level'", e.Message);
    }
}
