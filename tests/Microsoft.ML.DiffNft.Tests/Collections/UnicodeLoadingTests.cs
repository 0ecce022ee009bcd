using System.Text;
using Microsoft.ML.DiffNft.Collections;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>
/// The loader's Unicode rule: trait types, values and captions in NFC in every format, other fields as written; text that
/// is not Unicode replaced when a file is decoded, or named when it arrives as is; messages that stay on one line.
/// </summary>
public sealed class UnicodeLoadingTests
{
    private const string Decomposed = "cafe\u0301", Precomposed = "caf\u00E9";

    [Fact]
    public void EveryFormatNormalisesTraitsAndCaptionsToNfcAndKeepsOtherFieldsAsWritten()
    {
        using var tmp = new TempDir();
        tmp.File("long/attributes.csv", $"token_id,trait_type,value\n1,Drink,{Decomposed}\n2,Drink,{Precomposed}\n");
        tmp.File("wide/traits.csv", $"token_id,Drin\u0301k\n1,{Decomposed}\n2,{Precomposed}\n");
        tmp.File("lines/metadata.jsonl",
            $"{{\"token_id\": 1, \"name\": \"{Decomposed}\", \"attributes\": [{{\"trait_type\": \"Drink\", \"value\": \"{Decomposed}\"}}]}}\n" +
            $"{{\"token_id\": 2, \"attributes\": [{{\"trait_type\": \"Drink\", \"value\": \"{Precomposed}\"}}]}}\n");
        tmp.File("lines/captions.csv", $"token_id,caption\n1,a {Decomposed}\n");

        foreach (var dir in new[] { "long", "wide", "lines" })
        {
            var c = NftCollectionLoader.Load(Path.Combine(tmp.Path, dir), new NftCollectionLoadOptions { LoadImages = false });
            Assert.All(c.Tokens, t => Assert.Equal(Precomposed, t.Attributes.Single().Value));
            Assert.All(c.TraitTypes, t => Assert.True(t.IsNormalized(NormalizationForm.FormC), t));
        }
        var lines = NftCollectionLoader.Load(Path.Combine(tmp.Path, "lines"), new NftCollectionLoadOptions { LoadImages = false });
        Assert.Equal("a " + Precomposed, lines.Tokens[0].Caption);
        Assert.Equal(Decomposed, lines.Tokens[0].Name); // not a trait: kept exactly, for a faithful round trip
    }

    [Fact]
    public void TextThatIsNotUnicodeIsReplacedWhenDecodedOrNamedWhenItArrivesAsIs()
    {
        using var tmp = new TempDir();
        string path = Path.Combine(tmp.Path, "attributes.csv");
        // UTF-16 with a byte-order mark, written code unit by code unit (an encoder would replace the lone surrogate):
        // decoding the file turns it into U+FFFD, so it loads.
        var text = "token_id,trait_type,value\n7,Head,x\uD83D\n";
        File.WriteAllBytes(path, [0xFF, 0xFE, .. text.SelectMany(ch => new[] { (byte)ch, (byte)(ch >> 8) })]);
        Assert.Equal("x\uFFFD", NftCollectionLoader.Load(path).Tokens.Single().Attributes.Single().Value);

        // A string that holds one anyway (JSON escapes are refused by the JSON reader first) is named, not passed to NFC.
        var tokens = new List<NftToken> { new("7", [new NftAttribute("Head", "x\uD83D")]) };
        var ex = Assert.Throws<InvalidDataException>(() => Microsoft.ML.DiffNft.Collections.Formats.CollectionTextNormalization.Apply(tokens, path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("token id 7", ex.Message);
        Assert.Contains("'Head'", ex.Message);
        Assert.Contains("U+D83D", ex.Message);
    }

    [Fact]
    public void MessagesShowControlCharactersAndNeverCutASurrogatePair()
    {
        Assert.Equal("a\\nb\\u0001", UnicodeText.Printable("a\nb\u0001", 60));
        string cut = UnicodeText.Printable(new string('x', 56) + "😀😀😀", 60);
        Assert.EndsWith("...", cut);
        Assert.Equal(-1, UnicodeText.IndexOfUnpairedSurrogate(cut));
        Assert.Equal(1, UnicodeText.IndexOfUnpairedSurrogate("a\uDE00"));
    }
}
