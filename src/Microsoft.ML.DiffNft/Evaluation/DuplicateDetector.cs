using System.Collections.Concurrent;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Groups images that are the same generated item: equal trait keys (decoded DNA), or near-identical pixels (same size,
/// no RGB channel differing by more than a tolerance). Returns how many images repeat an earlier one.
/// </summary>
internal static class DuplicateDetector
{
    private const int MaxSide = 64;

    /// <param name="images">The images.</param>
    /// <param name="keys">Per image, its decoded trait key, or null when it has none (not decodable).</param>
    /// <param name="tolerance">The largest difference (0–255) any RGB channel of near-identical images may show.</param>
    /// <param name="cancellationToken">Stops the comparison.</param>
    public static int CountDuplicates(IReadOnlyList<RgbaImage> images, IReadOnlyList<string?> keys, int tolerance, CancellationToken cancellationToken)
    {
        int n = images.Count;
        var parent = new int[n];
        for (int i = 0; i < n; i++) parent[i] = i;

        var firstByKey = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (keys[i] is not { } key) continue;
            if (firstByKey.TryGetValue(key, out int first)) Union(parent, first, i);
            else firstByKey[key] = i;
        }

        // Opaque RGB bytes (alpha composited onto white), at native size up to 64×64, else area-resampled to 64×64.
        var thumbs = new byte[n][];
        var sizes = new (int W, int H)[n];
        ParallelLoop.For(n, i =>
        {
            var img = images[i];
            if (img.Width <= MaxSide && img.Height <= MaxSide)
            {
                sizes[i] = (img.Width, img.Height);
                var rgb = new byte[img.Width * img.Height * 3];
                var px = img.Pixels;
                for (int p = 0, q = 0; p < px.Length; p += 4, q += 3)
                {
                    int a = px[p + 3];
                    for (int c = 0; c < 3; c++) rgb[q + c] = (byte)((px[p + c] * a + 255 * (255 - a) + 127) / 255);
                }
                thumbs[i] = rgb;
            }
            else
            {
                sizes[i] = (-img.Width, -img.Height); // resampled copies compare only with images of the same original size
                var planes = new float[3 * MaxSide * MaxSide];
                FeatureImageResampler.ToRgbPlanes(img, MaxSide, planes);
                var rgb = new byte[3 * MaxSide * MaxSide];
                for (int p = 0; p < MaxSide * MaxSide; p++)
                    for (int c = 0; c < 3; c++) rgb[3 * p + c] = (byte)Math.Clamp(MathF.Round(planes[c * MaxSide * MaxSide + p]), 0, 255);
                thumbs[i] = rgb;
            }
        }, cancellationToken);

        var edges = new ConcurrentBag<(int, int)>();
        ParallelLoop.For(n, i =>
        {
            for (int j = i + 1; j < n; j++)
            {
                if (sizes[i] != sizes[j]) continue;
                if (NearIdentical(thumbs[i], thumbs[j], tolerance)) edges.Add((i, j));
            }
        }, cancellationToken);
        foreach (var (i, j) in edges) Union(parent, i, j);

        int groups = 0;
        for (int i = 0; i < n; i++) if (Find(parent, i) == i) groups++;
        return n - groups;
    }

    /// <summary>True when no byte differs by more than <paramref name="tolerance"/>; stops at the first that does.</summary>
    internal static bool NearIdentical(byte[] a, byte[] b, int tolerance)
    {
        var x = a.AsSpan();
        var y = b.AsSpan();
        int k = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var limit = new System.Numerics.Vector<byte>((byte)tolerance);
            int width = System.Numerics.Vector<byte>.Count;
            for (; k + width <= x.Length; k += width)
            {
                var u = new System.Numerics.Vector<byte>(x[k..]);
                var v = new System.Numerics.Vector<byte>(y[k..]);
                var diff = System.Numerics.Vector.Max(u, v) - System.Numerics.Vector.Min(u, v);
                if (System.Numerics.Vector.GreaterThanAny(diff, limit)) return false;
            }
        }
        for (; k < x.Length; k++)
            if (Math.Abs(x[k] - y[k]) > tolerance) return false;
        return true;
    }

    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void Union(int[] parent, int a, int b)
    {
        int ra = Find(parent, a), rb = Find(parent, b);
        if (ra != rb) parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
    }
}
