using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Collections.CollectionTestData;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>captions.csv: written by <see cref="NftCollectionWriter"/>, read back into NftToken.Caption by the loader.</summary>
public class CaptionsFileTests
{
    private static readonly string?[] s_captions = ["a thing, hat \"big\"", " padded ", null, "", "two\nlines"];

    private static NftCollection Captioned() => new(s_captions.Select((c, i) =>
        new NftToken((i + 1).ToString(), [new("Hat", i % 2 == 0 ? "big" : "small")]) { Caption = c, Image = new RgbaImage(2, 2) }).ToList());

    [Fact]
    public void WriterWritesCaptionedTokensAndEveryCollectionPathReadsThemBack()
    {
        using var tmp = new TempDir();
        NftCollectionWriter.Write(Captioned(), tmp.Path);
        // RFC 4180 quoting; token 3 has no caption and no row, token 4's empty caption keeps its row.
        Assert.Equal("token_id,caption\n1,\"a thing, hat \"\"big\"\"\"\n2,\" padded \"\n4,\n5,\"two\nlines\"\n",
            File.ReadAllText(Path.Combine(tmp.Path, "captions.csv")));

        foreach (var path in new[] { tmp.Path, Path.Combine(tmp.Path, "metadata"), Path.Combine(tmp.Path, "_metadata.json") })
        {
            var back = NftCollectionLoader.Load(path);
            Assert.Equal(s_captions, back.Tokens.Select(t => t.Caption));
            AssertSameTokens(Captioned(), back, compareImages: true);
        }

        // One token's file is not the collection the captions describe; and captions can be turned off.
        Assert.Null(NftCollectionLoader.Load(Path.Combine(tmp.Path, "metadata", "1.json")).Tokens[0].Caption);
        Assert.All(NftCollectionLoader.Load(tmp.Path, new NftCollectionLoadOptions { LoadCaptions = false }).Tokens, t => Assert.Null(t.Caption));
    }

    [Fact]
    public void LoadedCaptionsReachTheDataViewAndForCollection()
    {
        using var tmp = new TempDir();
        NftCollectionWriter.Write(Captioned(), tmp.Path);
        var back = NftCollectionLoader.Load(tmp.Path);
        var view = back.ToDataView();
        Assert.Equal(["a thing, hat \"big\"", " padded ", "", "", "two\nlines"],
            view.GetColumn<ReadOnlyMemory<char>>(NftSchema.CaptionColumnName).Select(m => m.ToString()));
        // A token without a caption gets one from its traits.
        Assert.Equal(["a thing, hat \"big\"", " padded ", "a hat, hat big", "", "two\nlines"], NftCaptions.ForCollection(back, "a hat"));
    }

    [Fact]
    public void CollectionsWithoutCaptionsHaveNoFileAndReplacingRemovesAStaleOne()
    {
        using var tmp = new TempDir();
        var plain = new NftCollection([new NftToken("1", [new("Hat", "big")])]);
        NftCollectionWriter.Write(plain, Path.Combine(tmp.Path, "plain"));
        Assert.False(File.Exists(Path.Combine(tmp.Path, "plain", "captions.csv")));

        NftCollectionWriter.Write(Captioned(), Path.Combine(tmp.Path, "replaced"));
        NftCollectionWriter.Write(plain, Path.Combine(tmp.Path, "replaced"), new NftCollectionWriteOptions { ReplaceExisting = true });
        Assert.False(File.Exists(Path.Combine(tmp.Path, "replaced", "captions.csv")));
        Assert.Null(NftCollectionLoader.Load(Path.Combine(tmp.Path, "replaced")).Tokens.Single().Caption);
    }

    [Theory]
    [InlineData("token_id,caption\n1,a\n99,ghost\n", "line 3", "token 99, which is not in the collection")]
    [InlineData("token_id,caption\n1,a\n2,b\n1,again\n", "line 4", "token 1 already has a caption on line 2")]
    [InlineData("token_id,caption\n1,a,b\n", "line 2", "expected 2 fields (token_id,caption), found 3")]
    [InlineData("token_id,caption\nseven,a\n", "line 2", "field 'token_id': expected a non-negative integer token id, found 'seven'")]
    [InlineData("id,text\n1,a\n", "line 1", "expected the header 'token_id,caption', found 'id,text'")]
    [InlineData("token_id,caption\n1,\"open\n", "line 2", "never closed")]
    public void BadCaptionFilesNameTheFileAndLine(string csv, string line, string expected)
    {
        using var tmp = new TempDir();
        NftCollectionWriter.Write(Captioned(), tmp.Path);
        string path = tmp.File("captions.csv", csv);
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(tmp.Path));
        Assert.Contains($"'{path}', {line}", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void CaptionsWithPaddedIdsMatchTheirTokens()
    {
        using var tmp = new TempDir();
        NftCollectionWriter.Write(Captioned(), tmp.Path);
        tmp.File("captions.csv", "token_id,caption\r\n003,third\r\n");
        Assert.Equal([null, null, "third", null, null], NftCollectionLoader.Load(tmp.Path).Tokens.Select(t => t.Caption));
    }

    [Fact]
    public void WriterReportsProgressStopsWhenCancelledAndChecksValuesBeforeWriting()
    {
        using var tmp = new TempDir();
        var collection = new NftCollection(Enumerable.Range(0, 40).Select(i => new NftToken(i.ToString(), [new("Level", i.ToString(), NftValueKind.Number)])
        {
            Image = new RgbaImage(4, 4),
        }).ToList());
        var reports = new System.Collections.Concurrent.ConcurrentBag<int>();
        NftCollectionWriter.Write(collection, Path.Combine(tmp.Path, "all"), progress: new SynchronousProgress<int>(reports.Add));
        Assert.Equal(Enumerable.Range(1, 40), reports.Order()); // every count once, whatever the thread order

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        string stopped = Path.Combine(tmp.Path, "stopped");
        Assert.ThrowsAny<OperationCanceledException>(() => NftCollectionWriter.Write(collection, stopped, cancellationToken: cancel.Token));
        Assert.False(File.Exists(Path.Combine(stopped, "_metadata.json")));

        // A bad value is found before any file is written, and always the first bad token in collection order.
        var bad = new NftCollection(collection.Tokens.Select(t => t.TokenId is "17" or "30"
            ? new NftToken(t.TokenId, [new("Level", "high", NftValueKind.Number)]) { Image = t.Image } : t).ToList());
        string badDir = Path.Combine(tmp.Path, "bad");
        var e = Assert.Throws<InvalidDataException>(() => NftCollectionWriter.Write(bad, badDir));
        Assert.Contains("Token 17, trait 'Level'", e.Message);
        Assert.False(Directory.Exists(badDir));
    }

    /// <summary>Reports on the worker thread (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>

    [Fact]
    public void ACollectionWithoutCaptionsGetsCaptionsBuiltFromItsTraits()
    {
        // CrypToadz has traits and images but no captions: its data view still has a Caption column for TrainDiffusion.
        var toadz = CollectionTestData.Cryptoadz;
        Assert.All(toadz.Tokens, t => Assert.Null(t.Caption));
        var captions = toadz.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, CaptionSubject = "a toad" })
            .GetColumn<ReadOnlyMemory<char>>(NftSchema.CaptionColumnName).Select(m => m.ToString()).ToArray();
        Assert.Equal(NftCaptions.ForCollection(toadz, "a toad"), captions);
        Assert.Equal(NftCaptions.FromTraits(toadz.Tokens[0], "a toad"), captions[0]);
        Assert.StartsWith("a toad, ", captions[0]);
        Assert.Contains("background 95", captions[0]);
        // Turned off: no column, as before.
        var none = toadz.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, CaptionSubject = null });
        Assert.Null(none.Schema.GetColumnOrNull(NftSchema.CaptionColumnName));
    }
}
