namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>Lays images out on a grid (a contact sheet), scaled up without blur, for people to look at.</summary>
internal static class ContactSheet
{
    /// <summary>Builds a grid of equally sized images.</summary>
    /// <param name="images">The images, row-major.</param>
    /// <param name="columns">Images per row (default: the square root of the count, rounded up).</param>
    /// <param name="scale">Integer upscale factor per image.</param>
    /// <param name="gap">Pixels of white between images.</param>
    public static RgbaImage Build(IReadOnlyList<RgbaImage> images, int? columns = null, int scale = 2, int gap = 2)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("A contact sheet needs at least one image.", nameof(images));
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "Must be at least 1.");
        if (gap < 0) throw new ArgumentOutOfRangeException(nameof(gap), gap, "Must be non-negative.");
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(images.Count));
        if (cols < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "Must be at least 1.");
        int rows = (images.Count + cols - 1) / cols;
        int w = images[0].Width * scale, h = images[0].Height * scale;
        var sheet = new RgbaImage(cols * w + (cols + 1) * gap, rows * h + (rows + 1) * gap);
        sheet.Fill(255, 255, 255);
        for (int i = 0; i < images.Count; i++)
        {
            var img = images[i];
            if (img.Width * scale != w || img.Height * scale != h)
                throw new ArgumentException($"Image {i} is {img.Width}×{img.Height}; a contact sheet needs images of one size.", nameof(images));
            var big = img.ScaleNearest(scale);
            int x0 = gap + (i % cols) * (w + gap), y0 = gap + (i / cols) * (h + gap);
            for (int y = 0; y < h; y++)
                Buffer.BlockCopy(big.Pixels, y * w * 4, sheet.Pixels, ((y0 + y) * sheet.Width + x0) * 4, w * 4);
        }
        return sheet;
    }
}
