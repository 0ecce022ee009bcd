using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>The result of <see cref="KernelInceptionDistance.Compute(IReadOnlyList{float[]}, IReadOnlyList{float[]}, int, int?, int)"/>.</summary>
/// <param name="Mean">KID: the mean of the per-subset unbiased MMD² estimates (can be slightly negative).</param>
/// <param name="StandardDeviation">The standard deviation (N − 1) of the per-subset estimates; 0 with one subset.</param>
/// <param name="Subsets">The number of subsets.</param>
/// <param name="SubsetSize">The number of vectors drawn from each set per subset.</param>
internal readonly record struct KernelDistance(double Mean, double StandardDeviation, int Subsets, int SubsetSize);

/// <summary>
/// KID (Bińkowski et al. 2018): the unbiased estimate of the squared maximum mean discrepancy between two feature sets
/// under the polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets, in float64. Unlike FID it is
/// unbiased at any N: two samples of one distribution give ≈ 0.
/// </summary>
internal static class KernelInceptionDistance
{
    /// <summary>The default number of subsets (as clean-fid and torchmetrics).</summary>
    public const int DefaultSubsets = 100;

    /// <summary>
    /// The subset size used when none is given: half the smaller set, at most 1,000 (clean-fid's cap) and at least 2.
    /// Half, rather than all of it, so that subsets differ and <see cref="KernelDistance.StandardDeviation"/> says
    /// something at the usual N = 1,000; the estimate is unbiased at any subset size.
    /// </summary>
    public static int DefaultSubsetSize(int firstCount, int secondCount) => Math.Max(2, Math.Min(1000, Math.Min(firstCount, secondCount) / 2));

    /// <summary>KID between two float32 feature sets.</summary>
    /// <param name="first">One feature vector per image.</param>
    /// <param name="second">One feature vector per image, same dimension.</param>
    /// <param name="subsets">How many subsets to average over.</param>
    /// <param name="subsetSize">Vectors drawn (without replacement) from each set per subset; null for <see cref="DefaultSubsetSize"/>.</param>
    /// <param name="seed">Seed of the subset draws: the same inputs and seed give the same result.</param>
    public static KernelDistance Compute(IReadOnlyList<float[]> first, IReadOnlyList<float[]> second,
        int subsets = DefaultSubsets, int? subsetSize = null, int seed = 0)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(first, nameof(first));
        using var y = FeatureMatrix.ToTensor(second, nameof(second));
        return Compute(x, y, subsets, subsetSize, seed);
    }

    /// <summary>KID between two float64 feature sets.</summary>
    public static KernelDistance Compute(IReadOnlyList<double[]> first, IReadOnlyList<double[]> second,
        int subsets = DefaultSubsets, int? subsetSize = null, int seed = 0)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(first, nameof(first));
        using var y = FeatureMatrix.ToTensor(second, nameof(second));
        return Compute(x, y, subsets, subsetSize, seed);
    }

    /// <summary>The unbiased MMD² over the full sets (one "subset" holding every vector; the sets may differ in size).</summary>
    public static double UnbiasedMmd2(IReadOnlyList<double[]> first, IReadOnlyList<double[]> second)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(first, nameof(first));
        using var y = FeatureMatrix.ToTensor(second, nameof(second));
        return UnbiasedMmd2(x, y);
    }

    /// <summary>The unbiased MMD² over the full float32 feature sets.</summary>
    public static double UnbiasedMmd2(IReadOnlyList<float[]> first, IReadOnlyList<float[]> second)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(first, nameof(first));
        using var y = FeatureMatrix.ToTensor(second, nameof(second));
        return UnbiasedMmd2(x, y);
    }

    private static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        if (x.shape[1] != y.shape[1]) throw new ArgumentException($"The feature sets have different dimensions: {x.shape[1]} and {y.shape[1]}.", "second");
        return Mmd2(x, y);
    }

    internal static KernelDistance Compute(Tensor x, Tensor y, int subsets, int? subsetSize, int seed, bool? precompute = null)
    {
        TorchRuntime.EnsureLoaded();
        if (x.shape[1] != y.shape[1]) throw new ArgumentException($"The feature sets have different dimensions: {x.shape[1]} and {y.shape[1]}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(subsets, 1);
        int n1 = (int)x.shape[0], n2 = (int)y.shape[0];
        int m = subsetSize ?? DefaultSubsetSize(n1, n2);
        if (m < 2 || m > n1 || m > n2)
            throw new ArgumentOutOfRangeException(nameof(subsetSize), m, $"The KID subset size must be between 2 and the smaller set's size ({Math.Min(n1, n2)}).");
        var rng = new Random(seed);
        var values = new double[subsets];
        if (precompute ?? Math.Max(n1, n2) <= FullKernelLimit)
        {
            // Small enough to compute each kernel matrix once (3 matmuls) and sum sub-blocks per subset, instead of
            // 3 matmuls per subset: at N = 1,000 with 100 subsets that is ~25× less arithmetic.
            using var _ = NewDisposeScope();
            double d = x.shape[1];
            double[] Kernel(Tensor a, Tensor b) => (a.matmul(b.t()) / d + 1).pow(3).contiguous().data<double>().ToArray();
            var kxx = Kernel(x, x);
            var kyy = Kernel(y, y);
            var kxy = Kernel(x, y);
            for (int s = 0; s < subsets; s++)
            {
                var xi = Draw(rng, n1, m);
                var yi = Draw(rng, n2, m);
                values[s] = SubsetMmd2(kxx, kyy, kxy, n1, n2, xi, yi);
            }
        }
        else
        {
            for (int s = 0; s < subsets; s++)
            {
                using var _ = NewDisposeScope();
                var xi = tensor(Draw(rng, n1, m), dtype: ScalarType.Int64);
                var yi = tensor(Draw(rng, n2, m), dtype: ScalarType.Int64);
                values[s] = Mmd2(x.index_select(0, xi), y.index_select(0, yi));
            }
        }
        double mean = values.Average();
        double sd = subsets > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (subsets - 1)) : 0;
        return new KernelDistance(mean, sd, subsets, m);
    }

    /// <summary>Sets with at most this many vectors get their kernel matrices computed once (3 × 2,048² doubles ≤ 100 MB).</summary>
    private const int FullKernelLimit = 2048;

    /// <summary>The unbiased MMD² of one subset, summed from precomputed kernel matrices (row-major, n1×n1, n2×n2, n1×n2).</summary>
    private static double SubsetMmd2(double[] kxx, double[] kyy, double[] kxy, int n1, int n2, long[] xi, long[] yi)
    {
        int m = xi.Length;
        double sxx = 0, syy = 0, sxy = 0;
        for (int a = 0; a < m; a++)
        {
            long rx = xi[a] * n1, ry = yi[a] * n2, rxy = xi[a] * n2;
            for (int b = 0; b < m; b++)
            {
                if (a != b)
                {
                    sxx += kxx[rx + xi[b]];
                    syy += kyy[ry + yi[b]];
                }
                sxy += kxy[rxy + yi[b]];
            }
        }
        return sxx / ((double)m * (m - 1)) + syy / ((double)m * (m - 1)) - 2 * sxy / ((double)m * m);
    }

    /// <summary>Unbiased MMD²: mean of k(x, x') over distinct pairs + mean of k(y, y') over distinct pairs − 2 · mean of k(x, y).</summary>
    private static double Mmd2(Tensor x, Tensor y)
    {
        using var _ = NewDisposeScope();
        double d = x.shape[1];
        long n = x.shape[0], m = y.shape[0];
        if (n < 2 || m < 2) throw new ArgumentException("The unbiased MMD² needs at least 2 vectors in each set.");
        var kxx = (x.matmul(x.t()) / d + 1).pow(3);
        var kyy = (y.matmul(y.t()) / d + 1).pow(3);
        var kxy = (x.matmul(y.t()) / d + 1).pow(3);
        double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>();
        double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>();
        double sxy = kxy.sum().item<double>();
        return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - 2 * sxy / (n * m);
    }

    /// <summary>k distinct indices from 0 … n−1 (partial Fisher–Yates).</summary>
    private static long[] Draw(Random rng, int n, int k)
    {
        var pool = new long[n];
        for (int i = 0; i < n; i++) pool[i] = i;
        for (int i = 0; i < k; i++)
        {
            int j = rng.Next(i, n);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool.AsSpan(0, k).ToArray();
    }
}
