using Microsoft.ML.DiffNft.Imaging;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>Paths of the CC0 Nouns test files (copied under tests/data/nouns) and small image helpers.</summary>
internal static class NounsTestData
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "data", "nouns");

    public static string GoldenNoun116 => Path.Combine(Dir, "golden-noun116-32x32.png");

    public static string SdkImageData => Path.Combine(Dir, "sdk-test-vector", "image-data.json");

    public static string SdkExpectedPng => Path.Combine(Dir, "sdk-test-vector", "expected-noun-32x32.png");

    public static string SdkExpectedSvg => Path.Combine(Dir, "sdk-test-vector", "expected-noun.svg");

    /// <summary>Asserts that two images have the same size and the same RGB in every pixel, naming the first difference.</summary>
    public static void AssertSameRgb(RgbaImage expected, RgbaImage actual)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        for (int p = 0; p < expected.Width * expected.Height; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                if (expected.Pixels[4 * p + c] != actual.Pixels[4 * p + c])
                    Assert.Fail($"Pixel ({p % expected.Width},{p / expected.Width}) channel {c}: expected {expected.Pixels[4 * p + c]}, got {actual.Pixels[4 * p + c]}.");
            }
        }
    }

    /// <summary>A copy with Gaussian noise of standard deviation <paramref name="sigma"/> (0–255 units) on R, G, B.</summary>
    public static RgbaImage AddNoise(RgbaImage image, double sigma, Random rng)
    {
        var copy = image.Clone();
        for (int i = 0; i < copy.Pixels.Length; i++)
        {
            if (i % 4 == 3) continue;
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            double z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            copy.Pixels[i] = (byte)Math.Clamp(Math.Round(copy.Pixels[i] + sigma * z), 0, 255);
        }
        return copy;
    }

    /// <summary>A temporary folder deleted on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "diffnft-nouns-" + Guid.NewGuid().ToString("N")[..10]);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
