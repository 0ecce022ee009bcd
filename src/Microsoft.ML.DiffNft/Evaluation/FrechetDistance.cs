using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets — FID when the features come from a fixed
/// pretrained network: ‖μ1 − μ2‖² + Tr Σ1 + Tr Σ2 − 2 Tr √(Σ1 Σ2), in float64.
/// </summary>
/// <remarks>
/// The trace of the matrix square root is computed without complex numbers: Σ1 Σ2 has the same eigenvalues as the
/// symmetric positive semi-definite matrix R Σ2 R with R = Σ1^½ = V √Λ Vᵀ (from a symmetric eigendecomposition of
/// Σ1, negative round-off eigenvalues set to 0), which is orthogonally similar to √Λ Vᵀ Σ2 V √Λ; so
/// Tr √(Σ1 Σ2) = Σ √λᵢ(√Λ Vᵀ Σ2 V √Λ), with eigenvalues below 0 clipped. This route is
/// stable for rank-deficient covariances (fewer images than feature dimensions), where a general matrix square root
/// leaves imaginary residue. FID is biased upwards at small N: compare values only at equal N.
/// </remarks>
internal static class FrechetDistance
{
    /// <summary>The Fréchet distance between two sets of statistics of the same dimension.</summary>
    public static double Compute(FeatureStatistics first, FeatureStatistics second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Dimension != second.Dimension)
            throw new ArgumentException($"The statistics have different dimensions: {first.Dimension} and {second.Dimension}.", nameof(second));
        TorchRuntime.EnsureLoaded();
        int d = first.Dimension;
        double meanTerm = 0;
        for (int i = 0; i < d; i++)
        {
            double diff = first.Mean[i] - second.Mean[i];
            meanTerm += diff * diff;
        }
        double trace1 = 0, trace2 = 0;
        for (int i = 0; i < d; i++)
        {
            trace1 += first.Covariance[i * d + i];
            trace2 += second.Covariance[i * d + i];
        }
        return meanTerm + trace1 + trace2 - 2 * TraceSqrtProduct(first.Covariance, second.Covariance, d);
    }

    /// <summary>FID between two feature sets (one row per image): their statistics, then <see cref="Compute(FeatureStatistics, FeatureStatistics)"/>.</summary>
    public static double Compute(IReadOnlyList<float[]> first, IReadOnlyList<float[]> second) =>
        Compute(FeatureStatistics.FromFeatures(first), FeatureStatistics.FromFeatures(second));

    /// <summary>FID between two float64 feature sets.</summary>
    public static double Compute(IReadOnlyList<double[]> first, IReadOnlyList<double[]> second) =>
        Compute(FeatureStatistics.FromFeatures(first), FeatureStatistics.FromFeatures(second));

    /// <summary>Tr √(Σ1 Σ2) for symmetric positive semi-definite Σ1, Σ2 (row-major d×d).</summary>
    internal static double TraceSqrtProduct(double[] covariance1, double[] covariance2, int d)
    {
        // A diagonal matrix is its own eigendecomposition (V = I): skip the O(d³) solvers. Exact, and it keeps the 2,048-d
        // identity case of pytorch-fid's unit test instant.
        if (IsDiagonal(covariance1, d) && IsDiagonal(covariance2, d))
        {
            double sum = 0;
            for (int i = 0; i < d; i++)
                sum += Math.Sqrt(Math.Max(0, covariance1[i * d + i]) * Math.Max(0, covariance2[i * d + i]));
            return sum;
        }
        using var scope = NewDisposeScope();
        var s1 = tensor(covariance1, [d, d], dtype: ScalarType.Float64);
        var s2 = tensor(covariance2, [d, d], dtype: ScalarType.Float64);
        var (values, vectors) = linalg.eigh(s1);
        // R Σ2 R with R = V √Λ Vᵀ is orthogonally similar to √Λ (Vᵀ Σ2 V) √Λ: same eigenvalues, two matmuls instead of four.
        var root = values.clamp_min(0).sqrt();
        var m = vectors.t().matmul(s2).matmul(vectors) * root.unsqueeze(0) * root.unsqueeze(1);
        m = (m + m.t()) / 2;
        return linalg.eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();
    }

    private static bool IsDiagonal(double[] m, int d)
    {
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                if (i != j && m[i * d + j] != 0) return false;
        return true;
    }
}
