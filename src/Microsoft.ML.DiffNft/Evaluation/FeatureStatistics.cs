using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// The mean and covariance of a set of feature vectors, in float64: what the Fréchet distance compares. The covariance
/// is the unbiased one (divided by N − 1), as pytorch-fid and clean-fid compute it.
/// </summary>
internal sealed class FeatureStatistics
{
    /// <summary>Creates statistics from a mean and a row-major covariance.</summary>
    /// <param name="mean">The mean vector (length d).</param>
    /// <param name="covariance">The d×d covariance, row-major (length d²); it must be symmetric.</param>
    /// <param name="count">The number of vectors the statistics came from (for information; at least 1).</param>
    public FeatureStatistics(double[] mean, double[] covariance, int count)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(covariance);
        if (mean.Length == 0) throw new ArgumentException("The mean must have at least one element.", nameof(mean));
        if (covariance.Length != (long)mean.Length * mean.Length)
            throw new ArgumentException($"The covariance must have {mean.Length}×{mean.Length} = {mean.Length * mean.Length} elements for a mean of length {mean.Length}; got {covariance.Length}.", nameof(covariance));
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int d = mean.Length;
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
            {
                double a = covariance[i * d + j], b = covariance[j * d + i];
                if (Math.Abs(a - b) > 1e-9 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b))))
                    throw new ArgumentException($"The covariance is not symmetric: element ({i},{j}) is {a} but ({j},{i}) is {b}.", nameof(covariance));
            }
        Mean = mean;
        Covariance = covariance;
        Count = count;
    }

    /// <summary>The feature dimension d.</summary>
    public int Dimension => Mean.Length;

    /// <summary>The mean vector.</summary>
    public double[] Mean { get; }

    /// <summary>The covariance, row-major d×d.</summary>
    public double[] Covariance { get; }

    /// <summary>The number of vectors.</summary>
    public int Count { get; }

    /// <summary>Computes the statistics of float32 feature vectors (one row per image), in float64.</summary>
    public static FeatureStatistics FromFeatures(IReadOnlyList<float[]> features)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(features, nameof(features));
        return FromTensor(x);
    }

    /// <summary>Computes the statistics of float64 feature vectors (one row per sample).</summary>
    public static FeatureStatistics FromFeatures(IReadOnlyList<double[]> features)
    {
        using var scope = NewDisposeScope();
        using var x = FeatureMatrix.ToTensor(features, nameof(features));
        return FromTensor(x);
    }

    /// <summary>Statistics of a float64 [N, d] tensor.</summary>
    internal static FeatureStatistics FromTensor(Tensor x)
    {
        long n = x.shape[0];
        if (n < 2) throw new ArgumentException($"A covariance needs at least 2 feature vectors; got {n}.");
        using var _ = NewDisposeScope();
        var mean = x.mean([0]);
        var centred = x - mean;
        var cov = centred.t().matmul(centred) / (n - 1);
        cov = (cov + cov.t()) / 2; // exact symmetry, whatever the matmul's summation order
        return new FeatureStatistics(mean.data<double>().ToArray(), cov.contiguous().data<double>().ToArray(), (int)n);
    }
}

/// <summary>Feature lists to float64 tensors, with shape checks that name the bad row.</summary>
internal static class FeatureMatrix
{
    public static Tensor ToTensor(IReadOnlyList<float[]> rows, string name)
    {
        int d = Check(rows, r => r?.Length, name);
        var flat = new double[(long)rows.Count * d];
        for (int i = 0; i < rows.Count; i++)
            for (int k = 0; k < d; k++)
            {
                float v = rows[i][k];
                if (!float.IsFinite(v)) throw new ArgumentException($"{name}: row {i}, element {k} is {v}; features must be finite.", name);
                flat[(long)i * d + k] = v;
            }
        TorchRuntime.EnsureLoaded();
        return tensor(flat, [rows.Count, d], dtype: ScalarType.Float64);
    }

    public static Tensor ToTensor(IReadOnlyList<double[]> rows, string name)
    {
        int d = Check(rows, r => r?.Length, name);
        var flat = new double[(long)rows.Count * d];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int k = 0; k < d; k++)
                if (!double.IsFinite(rows[i][k])) throw new ArgumentException($"{name}: row {i}, element {k} is {rows[i][k]}; features must be finite.", name);
            Array.Copy(rows[i], 0, flat, (long)i * d, d);
        }
        TorchRuntime.EnsureLoaded();
        return tensor(flat, [rows.Count, d], dtype: ScalarType.Float64);
    }

    private static int Check<T>(IReadOnlyList<T> rows, Func<T, int?> length, string name)
    {
        ArgumentNullException.ThrowIfNull(rows, name);
        if (rows.Count == 0) throw new ArgumentException($"{name} is empty; at least one feature vector is needed.", name);
        int d = length(rows[0]) ?? throw new ArgumentException($"{name}: row 0 is null.", name);
        if (d == 0) throw new ArgumentException($"{name}: feature vectors are empty.", name);
        for (int i = 1; i < rows.Count; i++)
        {
            int? len = length(rows[i]);
            if (len is null) throw new ArgumentException($"{name}: row {i} is null.", name);
            if (len != d) throw new ArgumentException($"{name}: row {i} has {len} features; row 0 has {d}.", name);
        }
        return d;
    }
}
