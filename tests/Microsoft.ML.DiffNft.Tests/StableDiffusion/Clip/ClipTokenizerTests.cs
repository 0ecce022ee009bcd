using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip.ClipTestTokenizerFolder;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

public class ClipTokenizerTests
{
    private static int[] Tokens(string prompt)
    {
        using var folder = new ClipTestTokenizerFolder();
        return ClipTokenizer.FromFolder(folder.Path).Tokenize(prompt).ToArray();
    }

    [Theory]
    [InlineData("low", new[] { LowW })]
    [InlineData("LoW", new[] { LowW })]
    // l o w e r</w>: "l o" (rank 0) then "e r</w>" (rank 2); "lo w" is no merge ("lo w</w>" needs the final w).
    [InlineData("lower", new[] { Lo, 'w', ErW })]
    [InlineData("the", new[] { TheW })]
    [InlineData("  low \t\n  the  ", new[] { LowW, TheW })]
    public void WordsMergeByRankWithTheEndOfWordSuffix(string prompt, int[] expected) =>
        Assert.Equal(expected, Tokens(prompt));

    [Fact]
    public void PunctuationRunsContractionsAndDigitsSplitAsClipDoes()
    {
        // "hello" has no merge that applies ("l o" needs o, not o</w>).
        Assert.Equal(new[] { 'h', 'e', 'l', 'l', End('o'), End(','), 'w', 'o', 'r', 'l', End('d'), End('!') },
            Tokens("Hello, world!"));
        // A run of non-letters is one word.
        Assert.Equal(new[] { 'w', 'o', End('w'), '!', '?', End('!') }, Tokens("wow!?!"));
        Assert.Equal(new[] { 'i', End('t'), '\'', End('s') }, Tokens("it's"));
        Assert.Equal(new[] { 'd', 'o', End('n'), '\'', End('t') }, Tokens("DON'T"));
        Assert.Equal(new[] { 'w', End('e'), '\'', 'r', End('e') }, Tokens("we're"));
        // Numbers split per digit; letters and digits never share a word.
        Assert.Equal(new[] { End('1'), End('2'), End('3') }, Tokens("123"));
        Assert.Equal(new[] { End('a'), End('1'), End('b') }, Tokens("a1b"));
    }

    [Fact]
    public void NonAsciiIsByteLevelAndCjkIdeographsAreSeparateWords()
    {
        // é is C3 A9; É lower-cases to it.
        Assert.Equal(new[] { 0xC3, 256 + 0xA9 }, Tokens("É"));
        // 猫 E7 8C AB, 犬 E7 8A AC: one word each (the reference spaces CJK ideographs apart).
        Assert.Equal(new[] { 0xE7, 0x8C, 256 + 0xAB, 0xE7, 0x8A, 256 + 0xAC }, Tokens("猫犬"));
        // Control and zero-width characters are dropped, joining the letters around them.
        Assert.Equal(new[] { LowW }, Tokens("lo\u200Bw"));
    }

    [Fact]
    public void MergesWhoseResultIsNotInTheVocabularyGiveUnk()
    {
        // x y</w> merges to "xy</w>", which the vocabulary lacks: one UNK (<|endoftext|>), not x, y</w>.
        Assert.Equal(new[] { Eos }, Tokens("xy"));
        Assert.Equal(new[] { 'y', End('x') }, Tokens("yx"));
    }

    [Fact]
    public void SymbolsMissingFromTheVocabularyGiveUnk()
    {
        using var folder = new ClipTestTokenizerFolder(editVocab: v => v.Remove("q</w>"));
        var tok = ClipTokenizer.FromFolder(folder.Path);
        Assert.Equal(new[] { 'q', Eos }, tok.Tokenize("qq").ToArray());
    }

    [Fact]
    public void SpecialTokensInTheTextMapToTheirIds()
    {
        Assert.Equal(new[] { LowW, Eos, LowW }, Tokens("low<|endoftext|>low"));
        Assert.Equal(new[] { Bos, TheW }, Tokens("<|startoftext|> the"));
    }

    [Fact]
    public void EncodeAddsBosEosAndPadsToModelMaxLength()
    {
        using var folder = new ClipTestTokenizerFolder();
        var tok = ClipTokenizer.FromFolder(folder.Path);
        Assert.Equal(77, tok.ModelMaxLength);
        var ids = tok.Encode("the lower", out int length);
        Assert.Equal(77, ids.Length);
        Assert.Equal(new long[] { Bos, TheW, Lo, 'w', ErW, Eos }, ids[..6]);
        Assert.Equal(6, length);
        // transformers' default pad token is <|endoftext|>.
        Assert.All(ids[6..], id => Assert.Equal(Eos, id));
        Assert.Equal(new long[] { Bos, Eos }, tok.Encode("")[..2]);
        Assert.Equal(new long[] { Bos, Eos }, tok.Encode(" \t ")[..2]);
    }

    [Fact]
    public void LongPromptsAreTruncatedKeepingEos()
    {
        using var folder = new ClipTestTokenizerFolder();
        var tok = ClipTokenizer.FromFolder(folder.Path);
        var ids = tok.Encode(string.Join(" ", Enumerable.Repeat("low the", 60)), out int length);
        Assert.Equal(77, length);
        Assert.Equal(Bos, ids[0]);
        Assert.Equal(Eos, ids[76]);
        for (int i = 1; i < 76; i++) Assert.Equal(i % 2 == 1 ? LowW : TheW, ids[i]);
    }

    [Fact]
    public void PadTokenComesFromTheSpecialTokensMapAndIsSplitOutOfTheText()
    {
        // SD 2.x: tokenizer_config names <|endoftext|> (as an added-token object), special_tokens_map "!" — the map wins.
        using var folder = new ClipTestTokenizerFolder(
            tokenizerConfig: """{"model_max_length": 10, "do_lower_case": true, "pad_token": {"content": "<|endoftext|>", "lstrip": false}}""",
            specialTokensMap: """{"bos_token": {"content": "<|startoftext|>"}, "eos_token": "<|endoftext|>", "pad_token": "!", "unk_token": "<|endoftext|>"}""");
        var tok = ClipTokenizer.FromFolder(folder.Path);
        Assert.Equal(10, tok.ModelMaxLength);
        Assert.Equal('!', tok.PadId);
        // As in the reference, each "!" is the pad token, split out before BPE (not the word "!!</w>").
        Assert.Equal(new long[] { Bos, 'w', 'o', End('w'), '!', '!', Eos, '!', '!', '!' }, tok.Encode("wow!!"));
    }

    [Fact]
    public void BatchIsAnInt64TensorWithItsAttentionMask()
    {
        TorchRuntime.EnsureLoaded();
        using var folder = new ClipTestTokenizerFolder();
        var tok = ClipTokenizer.FromFolder(folder.Path);
        using var ids = tok.EncodeBatch(new[] { "low", "", "the lower" }, out var mask);
        using var _ = mask;
        Assert.Equal(new long[] { 3, 77 }, ids.shape);
        Assert.Equal(TorchSharp.torch.int64, ids.dtype);
        Assert.Equal(tok.Encode("the lower"), ids[2].data<long>().ToArray());
        Assert.Equal(new long[] { 3, 2, 6 }, mask.sum(1).data<long>().ToArray());
        Assert.Equal(1L, mask[2, 5].item<long>());
        Assert.Equal(0L, mask[2, 6].item<long>());
    }

    [Fact]
    public void MissingAndInvalidFilesNameTheFile()
    {
        using (var folder = new ClipTestTokenizerFolder())
        {
            File.Delete(Path.Combine(folder.Path, "merges.txt"));
            var ex = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("merges.txt", ex.Message);
        }
        using (var folder = new ClipTestTokenizerFolder(merges: "#version: 0.2\nl o\nlo w </w>\n"))
        {
            var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("merges.txt' line 3", ex.Message);
        }
        using (var folder = new ClipTestTokenizerFolder(merges: "l o\nlo w</w>\n"))
        {
            var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("merges.txt' line 1", ex.Message);
        }
        using (var folder = new ClipTestTokenizerFolder(specialTokensMap: """{"pad_token": "<pad>"}"""))
        {
            var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("vocab.json", ex.Message);
            Assert.Contains("<pad>", ex.Message);
        }
        using (var folder = new ClipTestTokenizerFolder(tokenizerConfig: """{"model_max_length": 1e30}"""))
        {
            var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("tokenizer_config.json", ex.Message);
            Assert.Contains("model_max_length", ex.Message);
        }
        using (var folder = new ClipTestTokenizerFolder())
        {
            File.WriteAllText(Path.Combine(folder.Path, "vocab.json"), """{"a": "zero"}""");
            var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(folder.Path));
            Assert.Contains("vocab.json", ex.Message);
        }
        Assert.Throws<DirectoryNotFoundException>(() => ClipTokenizer.FromFolder(Path.Combine(Path.GetTempPath(), "no-such-clip-folder-" + Guid.NewGuid())));
    }
}
