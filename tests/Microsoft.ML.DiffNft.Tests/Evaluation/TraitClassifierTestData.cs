using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.DiffNft.TraitClassification;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>
/// A synthetic collection without parts files: 16×16 characters whose traits (background colour, hat, eyes, mouth)
/// are drawn by fixed rules, so every trait can be read from the pixels exactly — a perfect classifier exists, and the
/// true traits of every token are known. Hat and eyes are missing on some tokens; values have skewed frequencies so
/// rarity scores vary. One small classifier is trained on it once per test run.
/// </summary>
internal static class TraitClassifierTestData
{
    public const int Side = 16;

    private static readonly (string Name, byte R, byte G, byte B)[] Backgrounds =
        [("Sky", 120, 170, 230), ("Grass", 90, 190, 90), ("Sand", 230, 210, 140), ("Plum", 150, 80, 160)];

    /// <summary>The background colours, which cover most of each character's pixels.</summary>
    public static IEnumerable<(byte R, byte G, byte B)> BackgroundColours => Backgrounds.Select(b => (b.R, b.G, b.B));

    private static readonly string[] Hats = ["Cap", "Crown", "Bow"];
    private static readonly string[] Eyes = ["Dots", "Visor"];
    private static readonly string[] Mouths = ["Smile", "Frown", "Tongue"];

    private static readonly Lazy<NftCollection> s_collection = new(() => Make(300, seed: 4));
    private static readonly Lazy<TraitClassifier> s_model = new(() => new TraitClassifierTrainer(Options()).Train(Collection));

    /// <summary>300 tokens (ids "0" … "299").</summary>
    public static NftCollection Collection => s_collection.Value;

    /// <summary>A small classifier trained on <see cref="Collection"/> with 20 % held out (shared; do not dispose).</summary>
    public static TraitClassifier Classifier => s_model.Value;

    /// <summary>The recipe of <see cref="Classifier"/>: width 8, 25 epochs of 240 training tokens (200 steps).</summary>
    public static TraitClassifierOptions Options(double epochs = 25) => new()
    {
        Width = 8, HiddenSize = 64, BatchSize = 32, Epochs = epochs, LearningRate = 3e-3, WarmupSteps = 10, Seed = 3,
        Device = DiffNftDevice.Cpu,
    };

    /// <summary>Renders <paramref name="count"/> tokens with seeded, skewed trait draws.</summary>
    public static NftCollection Make(int count, int seed, string name = "blocks")
    {
        var rng = new Random(seed);
        // Skewed: the first value of each list is the most common.
        int Pick(int n) => Math.Min(n - 1, (int)Math.Floor(-Math.Log(1 - rng.NextDouble()) * 1.5));
        var tokens = new List<NftToken>(count);
        for (int i = 0; i < count; i++)
        {
            var bg = Backgrounds[Pick(Backgrounds.Length)];
            string? hat = rng.NextDouble() < 0.35 ? null : Hats[Pick(Hats.Length)];
            string? eyes = rng.NextDouble() < 0.3 ? null : Eyes[Pick(Eyes.Length)];
            string mouth = Mouths[Pick(Mouths.Length)];
            var attributes = new List<NftAttribute> { new("Background", bg.Name) };
            if (hat is not null) attributes.Add(new NftAttribute("Hat", hat));
            if (eyes is not null) attributes.Add(new NftAttribute("Eyes", eyes));
            attributes.Add(new NftAttribute("Mouth", mouth));
            tokens.Add(new NftToken(i.ToString(System.Globalization.CultureInfo.InvariantCulture), attributes) { Image = Render(bg, hat, eyes, mouth) });
        }
        return new NftCollection(tokens, name);
    }

    private static RgbaImage Render((string Name, byte R, byte G, byte B) bg, string? hat, string? eyes, string mouth)
    {
        var img = new RgbaImage(Side, Side);
        img.Fill(bg.R, bg.G, bg.B);
        void Rect(int x0, int y0, int x1, int y1, byte r, byte g, byte b)
        {
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                    img.SetPixel(x, y, r, g, b);
        }
        Rect(4, 5, 11, 15, 200, 200, 200); // the body every token has
        switch (hat)
        {
            case "Cap": Rect(4, 2, 11, 4, 40, 40, 40); break;
            case "Crown":
                Rect(4, 3, 11, 4, 240, 200, 0);
                for (int x = 4; x <= 11; x += 3) img.SetPixel(x, 2, 240, 200, 0);
                break;
            case "Bow": Rect(6, 2, 9, 4, 250, 100, 180); break;
        }
        switch (eyes)
        {
            case "Dots": img.SetPixel(6, 7, 0, 0, 0); img.SetPixel(9, 7, 0, 0, 0); break;
            case "Visor": Rect(5, 7, 10, 8, 20, 20, 120); break;
        }
        switch (mouth)
        {
            case "Smile": Rect(6, 12, 9, 12, 90, 30, 30); img.SetPixel(5, 11, 90, 30, 30); img.SetPixel(10, 11, 90, 30, 30); break;
            case "Frown": Rect(6, 11, 9, 11, 90, 30, 30); img.SetPixel(5, 12, 90, 30, 30); img.SetPixel(10, 12, 90, 30, 30); break;
            case "Tongue": Rect(6, 11, 9, 11, 90, 30, 30); Rect(7, 12, 8, 13, 230, 60, 60); break;
        }
        return img;
    }

    /// <summary>Images of uniform random pixels.</summary>
    public static List<RgbaImage> Noise(int count, int seed, int side = Side)
    {
        var rng = new Random(seed);
        var images = new List<RgbaImage>(count);
        for (int i = 0; i < count; i++)
        {
            var bytes = new byte[side * side * 4];
            rng.NextBytes(bytes);
            for (int p = 3; p < bytes.Length; p += 4) bytes[p] = 255;
            images.Add(new RgbaImage(side, side, bytes));
        }
        return images;
    }
}
