using System.Collections.Concurrent;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// The one rule by which images of any size become the square RGB input of a feature network: composite straight alpha
/// onto white, then resample by <b>pixel area</b> (each output pixel is the area-weighted mean of the source pixels its
/// footprint covers), separably, in float, without rounding.
/// </summary>
/// <remarks>
/// Why area: NFT images are mostly small pixel art that must be enlarged (32×32 Nouns to 224 is exactly 7×), and
/// sometimes large art that must be reduced (1000×1000 mfers). For an integer enlargement, area resampling is exactly
/// nearest-neighbour: every output pixel lies inside one source pixel, so hard pixel edges stay hard (bilinear would blur
/// them into colours the art never has). For a non-integer enlargement (CrypToadz 36 → 224, 6.22×) only the one output
/// column or row that straddles a source pixel boundary blends its two neighbours. For a reduction it is a proper
/// anti-aliased box filter, where nearest-neighbour would alias and bilinear would skip source pixels. Real and
/// generated images always pass through this same rule.
/// </remarks>
internal static class FeatureImageResampler
{
    /// <summary>An identifier of this rule, part of cached-feature keys; change it whenever the rule changes.</summary>
    public const string RuleId = "area-white-v1";

    private static readonly ConcurrentDictionary<(int, int), AxisWeights> s_weights = new();

    /// <summary>
    /// Writes <paramref name="image"/> resampled to <paramref name="size"/>×<paramref name="size"/> as three planes R, G, B
    /// (values 0–255, row-major) into <paramref name="destination"/>, which must hold 3·size² floats.
    /// </summary>
    public static void ToRgbPlanes(RgbaImage image, int size, Span<float> destination) => ToRgbPlanes(image, size, size, destination);

    /// <summary>
    /// Writes <paramref name="image"/> resampled to <paramref name="width"/>×<paramref name="height"/> as three planes R, G,
    /// B (values 0–255, row-major) into <paramref name="destination"/>, which must hold 3·width·height floats.
    /// </summary>
    public static void ToRgbPlanes(RgbaImage image, int width, int height, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int plane = width * height;
        if (destination.Length < 3 * plane)
            throw new ArgumentException($"The destination holds {destination.Length} floats; {3 * plane} are needed.", nameof(destination));
        int w = image.Width, h = image.Height;
        var px = image.Pixels;

        // Alpha onto white, in float, then horizontal pass: rows of the source, columns of the output.
        var wx = s_weights.GetOrAdd((w, width), static k => AxisWeights.Build(k.Item1, k.Item2));
        var wy = s_weights.GetOrAdd((h, height), static k => AxisWeights.Build(k.Item1, k.Item2));
        var rgb = new float[3 * w];
        var horizontal = new float[3 * h * width]; // [c][sy][x]
        for (int sy = 0; sy < h; sy++)
        {
            int row = sy * w * 4;
            for (int sx = 0; sx < w; sx++)
            {
                int i = row + 4 * sx;
                float a = px[i + 3] / 255f;
                float white = 255f * (1 - a);
                rgb[sx] = px[i] * a + white;
                rgb[w + sx] = px[i + 1] * a + white;
                rgb[2 * w + sx] = px[i + 2] * a + white;
            }
            for (int c = 0; c < 3; c++)
            {
                var src = rgb.AsSpan(c * w, w);
                var dst = horizontal.AsSpan((c * h + sy) * width, width);
                wx.Apply(src, dst, 1);
            }
        }
        // Vertical pass: columns of the intermediate, rows of the output.
        var column = new float[h];
        var outColumn = new float[height];
        for (int c = 0; c < 3; c++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int sy = 0; sy < h; sy++) column[sy] = horizontal[(c * h + sy) * width + x];
                wy.Apply(column, outColumn, 1);
                for (int y = 0; y < height; y++) destination[c * plane + y * width + x] = outColumn[y];
            }
        }
    }

    /// <summary>Returns the image resampled to size×size as opaque RGBA bytes (rounded), for inspection and tests.</summary>
    public static RgbaImage Resample(RgbaImage image, int size) => Resample(image, size, size);

    /// <summary>
    /// Returns the image resampled to width×height as opaque RGBA bytes (rounded): alpha composited onto white, then pixel
    /// areas averaged. An integer reduction of nearest-neighbour-enlarged art gives back the original pixels exactly.
    /// </summary>
    public static RgbaImage Resample(RgbaImage image, int width, int height)
    {
        int plane = width * height;
        var planes = new float[3 * plane];
        ToRgbPlanes(image, width, height, planes);
        var result = new RgbaImage(width, height);
        for (int p = 0; p < plane; p++)
        {
            result.Pixels[4 * p] = (byte)Math.Clamp(MathF.Round(planes[p]), 0, 255);
            result.Pixels[4 * p + 1] = (byte)Math.Clamp(MathF.Round(planes[plane + p]), 0, 255);
            result.Pixels[4 * p + 2] = (byte)Math.Clamp(MathF.Round(planes[2 * plane + p]), 0, 255);
            result.Pixels[4 * p + 3] = 255;
        }
        return result;
    }

    /// <summary>For each output index along one axis, the source indices its footprint overlaps and their weights (sum 1).</summary>
    private sealed class AxisWeights
    {
        private readonly int[] _start;
        private readonly int[] _count;
        private readonly float[] _weights; // per output, _count[i] weights starting at _offset[i]
        private readonly int[] _offset;

        private AxisWeights(int[] start, int[] count, int[] offset, float[] weights)
        {
            _start = start;
            _count = count;
            _offset = offset;
            _weights = weights;
        }

        public static AxisWeights Build(int source, int target)
        {
            var start = new int[target];
            var count = new int[target];
            var offset = new int[target];
            var weights = new List<float>();
            // Exact rational arithmetic: output i covers source [i·S/T, (i+1)·S/T); scale by T to stay in integers.
            for (int i = 0; i < target; i++)
            {
                long lo = (long)i * source, hi = (long)(i + 1) * source; // in units of 1/T source pixels
                int first = (int)(lo / target), last = (int)((hi - 1) / target);
                start[i] = first;
                count[i] = last - first + 1;
                offset[i] = weights.Count;
                for (int s = first; s <= last; s++)
                {
                    long a = Math.Max(lo, (long)s * target), b = Math.Min(hi, (long)(s + 1) * target);
                    weights.Add((float)((double)(b - a) / source));
                }
            }
            return new AxisWeights(start, count, offset, weights.ToArray());
        }

        public void Apply(ReadOnlySpan<float> src, Span<float> dst, int stride)
        {
            for (int i = 0; i < _start.Length; i++)
            {
                float sum = 0;
                int s0 = _start[i], o = _offset[i];
                for (int k = 0; k < _count[i]; k++) sum += src[(s0 + k) * stride] * _weights[o + k];
                dst[i * stride] = sum;
            }
        }
    }
}
