namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// A small image held as straight (non-premultiplied) 8-bit RGBA, row-major, top row first.
/// NFT images are tiny (32×32 to a few hundred pixels), so a plain byte array is the simplest exchange format
/// between collections, the renderer, the decoder and tensors.
/// </summary>
public sealed class RgbaImage
{
    /// <summary>Creates a transparent image.</summary>
    public RgbaImage(int width, int height)
    {
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be positive.");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "Height must be positive.");
        Width = width;
        Height = height;
        Pixels = new byte[checked(width * height * 4)];
    }

    /// <summary>Wraps existing RGBA bytes (not copied).</summary>
    public RgbaImage(int width, int height, byte[] rgba)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (width <= 0) throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be positive.");
        if (height <= 0) throw new ArgumentOutOfRangeException(nameof(height), height, "Height must be positive.");
        if (rgba.Length != (long)width * height * 4)
            throw new ArgumentException($"Expected {width * height * 4} RGBA bytes for {width}×{height}, got {rgba.Length}.", nameof(rgba));
        Width = width;
        Height = height;
        Pixels = rgba;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>RGBA bytes, 4 per pixel, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>Sets one pixel.</summary>
    public void SetPixel(int x, int y, byte r, byte g, byte b, byte a = 255)
    {
        int i = (y * Width + x) * 4;
        Pixels[i] = r;
        Pixels[i + 1] = g;
        Pixels[i + 2] = b;
        Pixels[i + 3] = a;
    }

    /// <summary>Fills the whole image with one colour.</summary>
    public void Fill(byte r, byte g, byte b, byte a = 255)
    {
        for (int i = 0; i < Pixels.Length; i += 4)
        {
            Pixels[i] = r;
            Pixels[i + 1] = g;
            Pixels[i + 2] = b;
            Pixels[i + 3] = a;
        }
    }

    /// <summary>Returns a copy enlarged by an integer factor with nearest-neighbour sampling (no blur, for pixel art).</summary>
    public RgbaImage ScaleNearest(int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be at least 1.");
        if (factor == 1) return Clone();
        var result = new RgbaImage(Width * factor, Height * factor);
        for (int y = 0; y < result.Height; y++)
        {
            int sy = y / factor;
            for (int x = 0; x < result.Width; x++)
                Buffer.BlockCopy(Pixels, (sy * Width + x / factor) * 4, result.Pixels, (y * result.Width + x) * 4, 4);
        }
        return result;
    }

    /// <summary>Copies a rectangle out of this image.</summary>
    public RgbaImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || x + width > Width || y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"Rectangle ({x},{y},{width}×{height}) lies outside the {Width}×{Height} image.");
        var result = new RgbaImage(width, height);
        for (int row = 0; row < height; row++)
            Buffer.BlockCopy(Pixels, ((y + row) * Width + x) * 4, result.Pixels, row * width * 4, width * 4);
        return result;
    }

    /// <summary>A deep copy.</summary>
    public RgbaImage Clone() => new(Width, Height, (byte[])Pixels.Clone());

    /// <summary>True when both images have the same size and identical pixels.</summary>
    public bool PixelEquals(RgbaImage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Width == other.Width && Height == other.Height && Pixels.AsSpan().SequenceEqual(other.Pixels);
    }
}
