using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Pipeline;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>The resolution policy for collections of one's own: known sizes, exact round trips, compositing by the formula.</summary>
public sealed class CollectionGeometryTests
{
    [Theory]
    // width, height, divisor → working width, height, side
    [InlineData(36, 36, 4, 36, 36, 36)]      // CrypToadz: as it is
    [InlineData(32, 32, 4, 32, 32, 32)]      // Nouns
    [InlineData(24, 24, 8, 24, 24, 24)]
    [InlineData(30, 30, 4, 30, 30, 32)]      // padded to the next multiple of 4
    [InlineData(128, 128, 4, 64, 64, 64)]    // ÷2: the smallest factor reaching ≤ 64 keeps the most resolution
    [InlineData(1000, 1000, 4, 50, 50, 52)]  // ÷20: the smallest factor dividing 1000 that reaches ≤ 64
    [InlineData(100, 60, 4, 50, 30, 52)]     // non-square, ÷2
    [InlineData(97, 97, 4, 64, 64, 64)]      // a prime side: pixel-area resampling to 64, never ÷97 to 1×1
    [InlineData(97, 50, 4, 64, 33, 64)]      // aspect kept: 50·64/97 = 32.99
    [InlineData(330, 330, 4, 55, 55, 56)]    // ÷6 (÷2, ÷3 and ÷5 leave more than 64)
    [InlineData(140, 70, 4, 64, 32, 64)]     // ÷2 leaves 70, ÷5 only 28: resampled by area
    public void SizesFollowThePolicy(int width, int height, int divisor, int workWidth, int workHeight, int side)
    {
        var g = CollectionGeometry.Choose(width, height, divisor);
        Assert.Equal((workWidth, workHeight, side), (g.Width, g.Height, g.Side));
        Assert.True(g.Width <= CollectionGeometry.MaxSide && g.Height <= CollectionGeometry.MaxSide);
        Assert.Equal(0, g.Side % divisor);
        Assert.Equal(width != g.Width || height != g.Height, g.Resamples);
    }

    [Theory]
    // Latent models: a working side of up to 128, squares divisible by the UNet's 4 times the VAE's 4.
    [InlineData(128, 128, 128, 128, 128)]    // mfers' render, Nouns --scale 4: as they are
    [InlineData(96, 64, 96, 64, 96)]         // kept, padded to a square of 96
    [InlineData(36, 36, 36, 36, 48)]         // small art: padded to the next multiple of 16
    [InlineData(1000, 1000, 125, 125, 128)]  // ÷8, the smallest factor reaching ≤ 128
    [InlineData(256, 256, 128, 128, 128)]    // ÷2
    [InlineData(257, 257, 128, 128, 128)]    // a prime side: pixel-area resampling to 128
    public void LatentModelsWorkAtUpTo128Pixels(int width, int height, int workWidth, int workHeight, int side)
    {
        var g = CollectionGeometry.Choose(width, height, 16, CollectionGeometry.MaxLatentSide);
        Assert.Equal((workWidth, workHeight, side), (g.Width, g.Height, g.Side));
        Assert.Equal(0, g.Side % 16);
    }

    [Fact]
    public void AnIntegerReductionOfNearestNeighbourArtGivesBackTheOriginalPixels()
    {
        foreach (var (width, height, scale) in new[] { (50, 30, 2), (50, 50, 20) })
        {
            var art = Noise(width, height, seed: scale);
            var big = art.ScaleNearest(scale); // 100×60 and 1000×1000
            var g = CollectionGeometry.Choose(big.Width, big.Height, divisor: 4);
            Assert.Equal((width, height), (g.Width, g.Height));
            Assert.True(g.ToWorking(big).PixelEquals(art), $"{big.Width}×{big.Height} ÷{scale} is not the original art");
        }
    }

    [Fact]
    public void PaddingRepeatsTheEdgeAndCroppingUndoesIt()
    {
        var g = CollectionGeometry.Choose(30, 22, divisor: 4);
        Assert.Equal((32, 1, 5), (g.Side, g.Left, g.Top));
        var image = Noise(30, 22, seed: 3);
        var square = g.ToTraining(image);
        Assert.Equal((32, 32), (square.Width, square.Height));
        Assert.True(g.FromTraining(square).PixelEquals(image));
        // Corners of the square repeat the image's corners; a padded row repeats the image's first row.
        Assert.Equal(Pixel(image, 0, 0), Pixel(square, 0, 0));
        Assert.Equal(Pixel(image, 29, 21), Pixel(square, 31, 31));
        for (int x = 0; x < 30; x++) Assert.Equal(Pixel(image, x, 0), Pixel(square, x + 1, 2));
        Assert.Throws<ArgumentException>(() => g.ToTraining(Noise(32, 32, seed: 4)));
        Assert.Throws<ArgumentException>(() => g.FromTraining(Noise(30, 22, seed: 4)));
    }

    [Fact]
    public void TransparencyIsCompositedOntoWhite()
    {
        var image = new RgbaImage(4, 4);
        image.Fill(10, 100, 200, 255);
        image.SetPixel(1, 1, 10, 100, 200, 0);    // fully transparent → white
        image.SetPixel(2, 2, 10, 100, 200, 51);   // 20 % opaque → 0.2·c + 0.8·255
        var working = CollectionGeometry.Choose(4, 4, divisor: 4).ToWorking(image);
        Assert.Equal((255, 255, 255, 255), Pixel(working, 1, 1));
        Assert.Equal((206, 224, 244, 255), Pixel(working, 2, 2)); // 0.2·10 + 204 = 206, 0.2·100 + 204 = 224, 0.2·200 + 204 = 244
        Assert.Equal((10, 100, 200, 255), Pixel(working, 0, 0));
        // An opaque image of the working size is returned as it is.
        var opaque = Noise(4, 4, seed: 5);
        Assert.Same(opaque, CollectionGeometry.Choose(4, 4, 4).ToWorking(opaque));
    }

    private static (int, int, int, int) Pixel(RgbaImage image, int x, int y)
    {
        int i = 4 * (y * image.Width + x);
        return (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2], image.Pixels[i + 3]);
    }

    private static RgbaImage Noise(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var image = new RgbaImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image.SetPixel(x, y, (byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
        return image;
    }
}
