using Microsoft.ML.DiffNft.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

/// <summary>
/// Prompts and captions with text beyond ASCII: emoji (surrogate pairs, ZWJ sequences, flags) are one vocabulary entry
/// each, accents typed precomposed or decomposed encode alike, and a vocabulary with any of them survives saving.
/// </summary>
public class PromptTokenizerUnicodeTests
{
    private static string[] Pieces(PromptTokenizer tokenizer, string prompt) =>
        tokenizer.Encode(prompt, 32).TakeWhile(i => i != PromptTokenizer.PadId).Select(i => tokenizer.Vocabulary[(int)i]).ToArray();

    [Fact]
    public void AnEmojiIsOneVocabularyEntryAndEncodesToIt()
    {
        // The surrogate halves of two different emoji once became two U+FFFD entries: a duplicate key.
        var tokenizer = PromptTokenizer.FromCaptions(["an nft, head spaghetti 😀", "an nft, head 🎉, hat 👩‍💻", "an nft, flag 🇫🇷"]);

        Assert.Equal(["an", "nft", ",", "head", "spaghetti", "😀"], Pieces(tokenizer, "an nft, head spaghetti 😀"));
        Assert.Equal(["hat", "👩‍💻"], Pieces(tokenizer, "hat 👩‍💻"));
        Assert.Equal(["flag", "🇫🇷"], Pieces(tokenizer, "flag 🇫🇷"));
        Assert.DoesNotContain(tokenizer.Vocabulary, v => v.Contains('\uFFFD') || v.Any(char.IsSurrogate) && v.Length == 1);
    }

    [Fact]
    public void AnAccentTypedDecomposedEncodesLikeOneTypedPrecomposed()
    {
        var tokenizer = PromptTokenizer.FromCaptions(["an nft, drink cafe\u0301"]);

        Assert.Equal(tokenizer.Encode("an nft, drink cafe\u0301", 16), tokenizer.Encode("an nft, drink caf\u00E9", 16));
        Assert.Equal(["drink", "caf\u00E9"], Pieces(tokenizer, "DRINK CAFÉ"));
    }

    [Fact]
    public void SymbolsAndUnderscoresAreEncodedAsTheVocabularyHasThem()
    {
        // The library's word-or-punctuation splitter dropped symbols ("+", "$") and kept "_" inside words, while the
        // vocabulary split them off: captions and prompts must split alike.
        var tokenizer = PromptTokenizer.FromCaptions(["an nft, price $5, power +3, name snake_case"]);

        Assert.Equal(["price", "$", "5", ",", "power", "+", "3"], Pieces(tokenizer, "price $5, power +3"));
        Assert.Equal(["snake", "_", "case"], Pieces(tokenizer, "snake_case"));
    }

    [Fact]
    public void AVocabularyWithEmojiAndAccentsRoundTrips()
    {
        var tokenizer = PromptTokenizer.FromCaptions(["an nft, head 😀 café, eyes ✨\u0007\u200B"]);
        var again = PromptTokenizer.FromVocabulary(tokenizer.Vocabulary);

        Assert.Equal(tokenizer.Vocabulary, again.Vocabulary);
        Assert.Equal(tokenizer.Encode("head 😀 café, eyes ✨", 16), again.Encode("head 😀 café, eyes ✨", 16));
        // An entry that could not survive the UTF-8 vocabulary stream is refused when a saved model is read.
        Assert.Throws<System.IO.InvalidDataException>(() => PromptTokenizer.FromVocabulary(["[PAD]", "[UNK]", "\uD83D"]));
        Assert.Throws<System.IO.InvalidDataException>(() => PromptTokenizer.FromVocabulary(["[PAD]", "[UNK]", "a\rb"]));
    }

    [Fact]
    public void ControlCharactersAndUnpairedSurrogatesInAPromptDoNotBreakEncoding()
    {
        var tokenizer = PromptTokenizer.FromCaptions(["an nft, head goat"]);

        Assert.Equal(["head", "goat"], Pieces(tokenizer, "head\u0000\u0001goat\u200B"));
        Assert.Equal(["head", "[UNK]"], Pieces(tokenizer, "head \uD83D"));
    }

    [Fact]
    public void PromptTextSplitsGraphemeClustersNotCodeUnits()
    {
        Assert.Equal(["a", "😀", "b"], PromptText.Words("a😀b"));
        Assert.Equal(["caf\u00E9", "👩‍💻", "🇫🇷"], PromptText.Words("cafe\u0301" + " 👩‍💻🇫🇷"));
        Assert.Equal(["x", "y", "z"], PromptText.Words("x\u0000y\u200Bz"));
        Assert.Equal(["snake", "_", "case", "+", "1"], PromptText.Words("SNAKE_CASE +1"));
        Assert.Equal(["\uFFFD"], PromptText.Words("\uDE00"));
    }
}
