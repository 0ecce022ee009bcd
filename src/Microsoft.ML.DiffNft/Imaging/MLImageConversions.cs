using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Converts between ML.NET's <see cref="MLImage"/> and <see cref="RgbaImage"/>.</summary>
public static class MLImageConversions
{
    /// <summary>Copies an <see cref="MLImage"/> (BGRA32 or RGBA32) into straight RGBA bytes.</summary>
    public static RgbaImage ToRgbaImage(this MLImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var src = image.Pixels;
        var px = new byte[image.Width * image.Height * 4];
        switch (image.PixelFormat)
        {
            case MLPixelFormat.Rgba32:
                src.CopyTo(px);
                break;
            case MLPixelFormat.Bgra32:
                for (int i = 0; i < px.Length; i += 4)
                {
                    px[i] = src[i + 2];
                    px[i + 1] = src[i + 1];
                    px[i + 2] = src[i];
                    px[i + 3] = src[i + 3];
                }
                break;
            default:
                throw new NotSupportedException($"MLImage pixel format {image.PixelFormat} is not supported; expected Bgra32 or Rgba32.");
        }
        return new RgbaImage(image.Width, image.Height, px);
    }

    /// <summary>Creates an <see cref="MLImage"/> (RGBA32) from an <see cref="RgbaImage"/>.</summary>
    public static MLImage ToMLImage(this RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return MLImage.CreateFromPixels(image.Width, image.Height, MLPixelFormat.Rgba32, image.Pixels);
    }
}
