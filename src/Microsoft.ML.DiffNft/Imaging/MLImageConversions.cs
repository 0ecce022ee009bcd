using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Converts between <see cref="RgbaImage"/> and ML.NET's <see cref="MLImage"/>.</summary>
public static class MLImageConversions
{
    /// <summary>
    /// Copies an image into a new <see cref="MLImage"/> in <see cref="MLPixelFormat.Rgba32"/> (bytes R, G, B, A per pixel,
    /// straight alpha — the same layout as <see cref="RgbaImage.Pixels"/>). The caller owns and disposes the result.
    /// </summary>
    public static MLImage ToMLImage(this RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return MLImage.CreateFromPixels(image.Width, image.Height, MLPixelFormat.Rgba32, image.Pixels);
    }

    /// <summary>Copies an <see cref="MLImage"/> (RGBA32 or BGRA32) into a new <see cref="RgbaImage"/>.</summary>
    public static RgbaImage ToRgbaImage(this MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var source = image.Pixels;
        var pixels = new byte[checked(image.Width * image.Height * 4)];
        if (source.Length != pixels.Length)
            throw new ArgumentException($"The image has {source.Length} bytes of pixels, expected {pixels.Length} for {image.Width}×{image.Height} at 32 bits.", nameof(image));
        switch (image.PixelFormat)
        {
            case MLPixelFormat.Rgba32:
                source.CopyTo(pixels);
                break;
            case MLPixelFormat.Bgra32:
                for (int i = 0; i < pixels.Length; i += 4)
                {
                    pixels[i] = source[i + 2];
                    pixels[i + 1] = source[i + 1];
                    pixels[i + 2] = source[i];
                    pixels[i + 3] = source[i + 3];
                }
                break;
            default:
                throw new ArgumentException($"Pixel format {image.PixelFormat} is not supported; expected Rgba32 or Bgra32.", nameof(image));
        }
        return new RgbaImage(image.Width, image.Height, pixels);
    }
}
