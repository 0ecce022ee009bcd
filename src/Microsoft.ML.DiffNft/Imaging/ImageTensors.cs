using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// Converts between <see cref="RgbaImage"/> batches and float tensors [N, 3, H, W] in [−1, 1] — the one pixel convention
/// of the diffusion models. The conversion is a handful of tensor ops over one byte buffer, not a per-pixel loop.
/// </summary>
internal static class ImageTensors
{
    /// <summary>Stacks images of one size into a float tensor [N, 3, H, W] with values in [−1, 1] (alpha dropped).</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbaImage> images, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("At least one image is needed.", nameof(images));
        int w = images[0].Width, h = images[0].Height;
        var bytes = new byte[(long)images.Count * w * h * 4];
        for (int i = 0; i < images.Count; i++)
        {
            var img = images[i] ?? throw new ArgumentException($"Image {i} is null.", nameof(images));
            if (img.Width != w || img.Height != h)
                throw new ArgumentException($"Image {i} is {img.Width}×{img.Height}, expected {w}×{h} like the first image.", nameof(images));
            Buffer.BlockCopy(img.Pixels, 0, bytes, i * w * h * 4, w * h * 4);
        }
        using var scope = NewDisposeScope();
        var t = tensor(bytes, new long[] { images.Count, h, w, 4 })
            .narrow(3, 0, 3).permute(0, 3, 1, 2).to_type(float32).div_(127.5).sub_(1);
        if (device is not null) t = t.to(device);
        return t.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Converts a tensor [N, 3, H, W] in [−1, 1] back to opaque images (values clamped, rounded to nearest).</summary>
    public static RgbaImage[] ToImages(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.dim() != 4 || batch.shape[1] != 3)
            throw new ArgumentException($"Expected a tensor [N, 3, H, W], got [{string.Join(", ", batch.shape)}].", nameof(batch));
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        byte[] bytes;
        using (var scope = NewDisposeScope())
        {
            var rgb = batch.detach().cpu().to_type(float32).add(1).mul_(127.5).round_().clamp_(0, 255).to_type(ScalarType.Byte);
            var alpha = full(new long[] { n, 1, h, w }, 255, ScalarType.Byte);
            var rgba = cat(new[] { rgb, alpha }, 1).permute(0, 2, 3, 1).contiguous();
            bytes = rgba.data<byte>().ToArray();
        }
        var images = new RgbaImage[n];
        int size = (int)(h * w * 4);
        for (int i = 0; i < n; i++)
        {
            var px = new byte[size];
            Buffer.BlockCopy(bytes, i * size, px, 0, size);
            images[i] = new RgbaImage((int)w, (int)h, px);
        }
        return images;
    }
}
