using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Splits prompts into the units of <see cref="PromptText.Split"/> for the WordPiece tokenizer. The library's
/// <c>PreTokenizer.CreateWordOrPunctuation</c> (<c>\w+|[\p{P}]</c>) drops symbols and emoji and keeps "_" inside words,
/// while the vocabulary is built with <see cref="PromptText"/>: both sides must split alike.
/// </summary>
internal sealed class PromptPreTokenizer : PreTokenizer
{
    /// <summary>The one instance (it holds no state).</summary>
    public static PromptPreTokenizer Instance { get; } = new();

    private PromptPreTokenizer()
    {
    }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : PromptText.Split(text);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        text.IsEmpty ? [] : PromptText.Split(text.ToString());
}

/// <summary>Normalises prompts with <see cref="PromptText.Normalize"/> (NFC, then lower case) for the WordPiece tokenizer.</summary>
internal sealed class PromptNormalizer : Normalizer
{
    /// <summary>The one instance (it holds no state).</summary>
    public static PromptNormalizer Instance { get; } = new();

    private PromptNormalizer()
    {
    }

    /// <inheritdoc/>
    public override string Normalize(string original) => PromptText.Normalize(original ?? "");

    /// <inheritdoc/>
    public override string Normalize(ReadOnlySpan<char> original) => PromptText.Normalize(original.ToString());
}
