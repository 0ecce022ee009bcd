using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

/// <summary>
/// A small CLIP-format tokenizer folder written for a test, with ids that can be derived by hand: the symbol of byte b
/// has id b, the same symbol with "&lt;/w&gt;" id 256 + b, then the merges' results, then the two special tokens.
/// </summary>
internal sealed class ClipTestTokenizerFolder : IDisposable
{
    /// <summary>The merges, in rank order; each result below is listed in the vocabulary unless noted.</summary>
    public static readonly (string, string)[] Merges =
    [
        ("l", "o"),       // lo       512
        ("lo", "w</w>"),  // low</w>  513
        ("e", "r</w>"),   // er</w>   514
        ("t", "h"),       // th       515
        ("th", "e</w>"),  // the</w>  516
        ("x", "y</w>"),   // xy</w>   not in the vocabulary: the reference merges, then maps it to UNK
    ];

    public const int Lo = 512, LowW = 513, ErW = 514, Th = 515, TheW = 516, Bos = 517, Eos = 518;

    public ClipTestTokenizerFolder(string? tokenizerConfig = null, string? specialTokensMap = null, Action<Dictionary<string, int>>? editVocab = null, string? merges = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clip-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        var vocab = Vocabulary();
        editVocab?.Invoke(vocab);
        File.WriteAllText(System.IO.Path.Combine(Path, "vocab.json"), JsonSerializer.Serialize(vocab), new UTF8Encoding(false));
        File.WriteAllText(System.IO.Path.Combine(Path, "merges.txt"),
            merges ?? "#version: 0.2\n" + string.Join("\n", Merges.Select(m => m.Item1 + " " + m.Item2)) + "\n", new UTF8Encoding(false));
        if (tokenizerConfig is not null) File.WriteAllText(System.IO.Path.Combine(Path, "tokenizer_config.json"), tokenizerConfig);
        if (specialTokensMap is not null) File.WriteAllText(System.IO.Path.Combine(Path, "special_tokens_map.json"), specialTokensMap);
    }

    public string Path { get; }

    public static Dictionary<string, int> Vocabulary()
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            vocab[ClipByteAlphabet.Symbols[b]] = b;
            vocab[ClipByteAlphabet.Symbols[b] + "</w>"] = 256 + b;
        }
        vocab["lo"] = Lo;
        vocab["low</w>"] = LowW;
        vocab["er</w>"] = ErW;
        vocab["th"] = Th;
        vocab["the</w>"] = TheW;
        vocab["<|startoftext|>"] = Bos;
        vocab["<|endoftext|>"] = Eos;
        return vocab;
    }

    /// <summary>Id of the plain symbol of <paramref name="c"/> (an ASCII character).</summary>
    public static int Sym(char c) => c;

    /// <summary>Id of the word-final symbol of <paramref name="c"/> (an ASCII character).</summary>
    public static int End(char c) => 256 + c;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
