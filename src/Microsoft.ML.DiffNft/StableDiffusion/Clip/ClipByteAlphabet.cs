namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// The 256 symbols of byte-level BPE (GPT-2's and CLIP's <c>bytes_to_unicode</c>): printable Latin-1 bytes stand for
/// themselves, the other 68 bytes (controls, space, 0x7F–0xA0, 0xAD) for U+0100 onwards in byte order, so that no symbol is
/// whitespace or a control character. Microsoft.ML.Tokenizers' byte-level BPE uses the same table; this copy lists the
/// symbols so that <see cref="ClipTokenizer"/> can check a vocabulary for them.
/// </summary>
internal static class ClipByteAlphabet
{
    /// <summary>Symbol of each byte value, indexed by the byte.</summary>
    public static IReadOnlyList<string> Symbols { get; } = Build();

    private static string[] Build()
    {
        var symbols = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = ((char)(printable ? b : next++)).ToString();
        }
        return symbols;
    }
}
