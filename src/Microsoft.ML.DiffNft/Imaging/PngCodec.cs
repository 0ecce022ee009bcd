using SkiaSharp;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Reads and writes images (PNG out; PNG, JPEG, GIF first frame, BMP, WebP in) as <see cref="RgbaImage"/>.</summary>
internal static class PngCodec
{
    /// <summary>Decodes an image file. Throws <see cref="InvalidDataException"/> naming the file when it is not an image.</summary>
    public static RgbaImage Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Image file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Decode(stream, path);
    }

    /// <summary>Decodes an image from a stream; <paramref name="sourceName"/> is used in error messages.</summary>
    public static RgbaImage Decode(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var codec = SKCodec.Create(stream)
            ?? throw new InvalidDataException($"'{sourceName}' is not an image format that can be decoded (PNG, JPEG, GIF, BMP, WebP).");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                var result = codec.GetPixels(info, (IntPtr)p);
                if (result != SKCodecResult.Success && result != SKCodecResult.IncompleteInput)
                    throw new InvalidDataException($"Could not decode image '{sourceName}': {result}.");
            }
        }
        return new RgbaImage(info.Width, info.Height, pixels);
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
