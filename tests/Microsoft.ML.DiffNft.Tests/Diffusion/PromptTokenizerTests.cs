using Microsoft.ML.DiffNft.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class PromptTokenizerTests
{
    private static readonly string[] Captions =
    {
        "a noun, body teal, accessory txt noun multicolor, head goat, glasses square red",
        "a noun, body blue, accessory none, head ape, glasses square red",
    };

    [Fact]
    public void KnownWordsAreSingleTokensInOrder()
    {
        var tok = PromptTokenizer.FromCaptions(Captions);
        var ids = tok.Encode("a noun, head goat", 8);
        var words = ids.TakeWhile(i => i != PromptTokenizer.PadId).Select(i => tok.Vocabulary[(int)i]).ToArray();
        Assert.Equal(new[] { "a", "noun", ",", "head", "goat" }, words);
        Assert.Equal(new long[] { 0, 0, 0 }, ids[5..]);
    }

    [Fact]
    public void UnknownWordsAreSpelledOutNotDropped()
    {
        var tok = PromptTokenizer.FromCaptions(Captions);
        var ids = tok.Encode("head zebra", 16);
        var pieces = ids.TakeWhile(i => i != PromptTokenizer.PadId).Select(i => tok.Vocabulary[(int)i]).ToArray();
        Assert.Equal(new[] { "head", "z", "##e", "##b", "##r", "##a" }, pieces);
    }

    [Fact]
    public void EmptyPromptIsAllPaddingAndLongPromptsAreTruncated()
    {
        var tok = PromptTokenizer.FromCaptions(Captions);
        Assert.All(tok.Encode("", 6), id => Assert.Equal(PromptTokenizer.PadId, id));
        Assert.Equal(4, tok.Encode(Captions[0], 4).Length);
        Assert.DoesNotContain(PromptTokenizer.PadId, tok.Encode(Captions[0], 4));
    }

    [Fact]
    public void VocabularyRoundTripsAndBadVocabulariesAreRejected()
    {
        var tok = PromptTokenizer.FromCaptions(Captions);
        var again = PromptTokenizer.FromVocabulary(tok.Vocabulary);
        Assert.Equal(tok.Encode(Captions[1], 20), again.Encode(Captions[1], 20));
        Assert.Throws<InvalidDataException>(() => PromptTokenizer.FromVocabulary(new[] { "x", "y" }));
        Assert.Throws<InvalidDataException>(() => PromptTokenizer.FromVocabulary(new[] { "[PAD]", "[UNK]", "a", "a" }));
    }
}

public class PartialPromptTests
{
    [Fact]
    public void PhraseDropoutKeepsTheSubjectIsDeterministicAndCoversPartialPrompts()
    {
        Microsoft.ML.DiffNft.Torch.TorchRuntime.EnsureLoaded();
        var captions = new[] { "a noun, body teal, accessory none, head goat, glasses square red" };
        using var idx = TorchSharp.torch.zeros(new long[] { 400 }, TorchSharp.torch.int64);
        var a = DiffusionTrainer.PartialPrompts(captions, idx, 0.5, 42);
        var b = DiffusionTrainer.PartialPrompts(captions, idx, 0.5, 42);
        Assert.Equal(a, b);
        Assert.All(a, p => Assert.StartsWith("a noun", p));
        Assert.Contains("a noun", a);
        Assert.Contains(captions[0], a);
        // Each phrase survives about half the time.
        double headRate = a.Count(p => p.Contains("head goat")) / 400.0;
        Assert.InRange(headRate, 0.4, 0.6);
        Assert.All(DiffusionTrainer.PartialPrompts(captions, idx, 0.0, 1), p => Assert.Equal(captions[0], p));
    }
}
