using SkiaSharp;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Reads and writes images (PNG out; PNG, JPEG, GIF first frame, BMP, WebP in) as <see cref="RgbaImage"/>.</summary>
internal static class PngCodec
{
    /// <summary>
    /// The largest image decoded by default: 4096×4096 pixels (64 MiB of RGBA). Larger images — and crafted headers that
    /// declare billions of pixels — are refused before any pixel memory is allocated; the limit is checked in 64-bit.
    /// Collections of larger art raise it with <c>NftCollectionLoadOptions.MaxImagePixels</c>.
    /// </summary>
    public const long DefaultMaxPixels = 4096L * 4096;

    /// <summary>
    /// Decodes an image file. Throws <see cref="InvalidDataException"/> naming the file when it is not an image, is
    /// truncated or damaged, or has more than <paramref name="maxPixels"/> pixels.
    /// </summary>
    public static RgbaImage Load(string path, long maxPixels = DefaultMaxPixels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Decode(stream, path, maxPixels);
    }

    /// <summary>Decodes an image from a stream; <paramref name="sourceName"/> is used in error messages (see <see cref="Load"/>).</summary>
    public static RgbaImage Decode(Stream stream, string sourceName = "stream", long maxPixels = DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        using var codec = SKCodec.Create(stream)
            ?? throw new InvalidDataException($"'{sourceName}' is not an image format that can be decoded (PNG, JPEG, GIF, BMP, WebP).");
        // The header alone gives the size: check it before allocating, in 64-bit (a 50000×50000 header overflows int).
        long width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0)
            throw new InvalidDataException($"Image '{sourceName}' declares a size of {width}×{height}; expected a positive width and height.");
        if (width * height > maxPixels)
            throw new InvalidDataException(
                $"Image '{sourceName}' is {width}×{height} ({width * height:N0} pixels), over the limit of {maxPixels:N0} pixels; " +
                "resize it, or raise the limit (NftCollectionLoadOptions.MaxImagePixels) if the collection really is that large.");
        var info = new SKImageInfo((int)width, (int)height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[width * height * 4];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                var result = codec.GetPixels(info, (IntPtr)p);
                // IncompleteInput is a truncated file: the missing rows would be left blank and scored as if they were art.
                if (result == SKCodecResult.IncompleteInput)
                    throw new InvalidDataException($"Image '{sourceName}' is truncated: its data ends before the last row of its {width}×{height} pixels.");
                if (result != SKCodecResult.Success)
                    throw new InvalidDataException($"Could not decode image '{sourceName}': {result}.");
            }
        }
        return new RgbaImage((int)width, (int)height, pixels);
    }

    /// <summary>Encodes an image as PNG bytes.</summary>
    public static byte[] Encode(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap();
        unsafe
        {
            fixed (byte* p = image.Pixels)
            {
                if (!bitmap.InstallPixels(info, (IntPtr)p, info.RowBytes))
                    throw new InvalidOperationException("Could not wrap the pixels for PNG encoding.");
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
                    ?? throw new InvalidOperationException("PNG encoding failed.");
                return data.ToArray();
            }
        }
    }

    /// <summary>Writes an image as PNG atomically (temporary file, then rename), creating the folder if needed.</summary>
    public static void Save(RgbaImage image, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, Encode(image));
    }
}
