using System.Text.Json;
using Microsoft.ML.DiffNft.Evaluation;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

public sealed class FidKidTests
{
    private static readonly JsonElement s_vectors =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "fid-kid", "fid_kid_test_vectors.json"))).RootElement;

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static double[] Flat(double[][] m) => m.SelectMany(r => r).ToArray();

    [Fact]
    public void CaseA_IdentityCovariancesWithUnitMeanShiftGive2048()
    {
        const int d = 2048;
        var identity = new double[d * d];
        for (int i = 0; i < d; i++) identity[i * d + i] = 1;
        var a = new FeatureStatistics(new double[d], identity, 2);
        var b = new FeatureStatistics(Enumerable.Repeat(1.0, d).ToArray(), (double[])identity.Clone(), 2);
        double expected = s_vectors.GetProperty("A_identity_cov_mean_shift").GetProperty("fid").GetDouble();
        Assert.Equal(expected, FrechetDistance.Compute(a, b), 6);
    }

    [Fact]
    public void CaseA_RotatedIntoAGeneralBasisStillGivesTheDimension()
    {
        // FID is invariant under an orthogonal change of basis: rotate case A (in 256-d, to stay fast) by a random
        // orthogonal Q so the covariances are dense and the general eigendecomposition route must find FID = d.
        const int d = 256;
        var q = RandomOrthogonal(d, new Random(9));
        var scaled = new double[d * d];
        var mean = new double[d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += q[i, k] * q[j, k] * (1 + k % 5); // Q diag(1..5) Qᵀ
                scaled[i * d + j] = s;
            }
            for (int k = 0; k < d; k++) mean[i] += q[i, k]; // Q · 1
        }
        for (int i = 0; i < d; i++) for (int j = 0; j < i; j++) scaled[i * d + j] = scaled[j * d + i] = (scaled[i * d + j] + scaled[j * d + i]) / 2;
        var a = new FeatureStatistics(new double[d], scaled, 2);
        var b = new FeatureStatistics(mean, (double[])scaled.Clone(), 2);
        Assert.Equal(d, FrechetDistance.Compute(a, b), 6);
    }

    private static double[,] RandomOrthogonal(int d, Random rng)
    {
        // Gram–Schmidt on a random Gaussian matrix.
        var q = new double[d, d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) q[i, j] = rng.NextDouble() - 0.5;
        for (int c = 0; c < d; c++)
        {
            for (int p = 0; p < c; p++)
            {
                double dot = 0;
                for (int r = 0; r < d; r++) dot += q[r, c] * q[r, p];
                for (int r = 0; r < d; r++) q[r, c] -= dot * q[r, p];
            }
            double norm = 0;
            for (int r = 0; r < d; r++) norm += q[r, c] * q[r, c];
            norm = Math.Sqrt(norm);
            for (int r = 0; r < d; r++) q[r, c] /= norm;
        }
        return q;
    }

    [Fact]
    public void CaseB_DiagonalCovariances()
    {
        var c = s_vectors.GetProperty("B_diag");
        var mu1 = c.GetProperty("mu1").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var mu2 = c.GetProperty("mu2").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var a = new FeatureStatistics(mu1, Flat(Matrix(c.GetProperty("sigma1"))), 2);
        var b = new FeatureStatistics(mu2, Flat(Matrix(c.GetProperty("sigma2"))), 2);
        Assert.Equal(c.GetProperty("fid").GetDouble(), FrechetDistance.Compute(a, b), 12);
    }

    [Fact]
    public void CaseC_FeatureMatricesGiveTheReferenceStatisticsFidAndMmd()
    {
        var c = s_vectors.GetProperty("C_features");
        var x = Matrix(c.GetProperty("X"));
        var y = Matrix(c.GetProperty("Y"));
        var sx = FeatureStatistics.FromFeatures(x);
        var expectedMu = c.GetProperty("mu1").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var expectedCov = Flat(Matrix(c.GetProperty("sigma1_ddof1")));
        for (int i = 0; i < 3; i++) Assert.Equal(expectedMu[i], sx.Mean[i], 12);
        for (int i = 0; i < 9; i++) Assert.Equal(expectedCov[i], sx.Covariance[i], 12);

        double fid = FrechetDistance.Compute(x, y);
        Assert.Equal(c.GetProperty("fid").GetDouble(), fid, 12);

        double mmd = c.GetProperty("kid_unbiased_mmd2_poly3_full_sets").GetDouble();
        Assert.Equal(mmd, KernelInceptionDistance.UnbiasedMmd2(x, y), 9);
        // One subset holding every vector is the same estimate.
        var kid = KernelInceptionDistance.Compute(x, y, subsets: 1, subsetSize: 6);
        Assert.Equal(mmd, kid.Mean, 9);
        Assert.Equal(0, kid.StandardDeviation);
    }

    [Fact]
    public void CaseD_SingularCovariances()
    {
        var c = s_vectors.GetProperty("D_singular");
        double fid = FrechetDistance.Compute(Matrix(c.GetProperty("X")), Matrix(c.GetProperty("Y")));
        // Rank-deficient: eigenvalues of order 1e-16 enter through a square root (≈ 1e-8 each), and scipy's reference itself
        // carries an imaginary residue of 1.1e-7; agreement to 1e-6 is what either route can promise.
        Assert.True(Math.Abs(c.GetProperty("fid").GetDouble() - fid) <= 1e-6, $"FID = {fid:R}");
    }

    [Theory]
    [InlineData(400, 64)]   // full-rank covariance
    [InlineData(40, 64)]    // fewer vectors than dimensions: rank-deficient
    public void FidOfASetWithItselfIsZero(int n, int d)
    {
        var x = RandomFeatures(n, d, new Random(n + d), shift: 0);
        Assert.True(Math.Abs(FrechetDistance.Compute(x, x)) <= 1e-6, $"FID(X, X) = {FrechetDistance.Compute(x, x)}");
    }

    [Fact]
    public void FidAndKidAreSymmetric()
    {
        var rng = new Random(3);
        var x = RandomFeatures(300, 32, rng, shift: 0);
        var y = RandomFeatures(250, 32, rng, shift: 0.3);
        double xy = FrechetDistance.Compute(x, y), yx = FrechetDistance.Compute(y, x);
        Assert.True(xy > 1, $"The two sets should be far apart; FID = {xy}");
        Assert.True(Math.Abs(xy - yx) <= 1e-9 * xy, $"FID(X,Y) = {xy}, FID(Y,X) = {yx}");
        double kxy = KernelInceptionDistance.UnbiasedMmd2(x, y), kyx = KernelInceptionDistance.UnbiasedMmd2(y, x);
        Assert.True(Math.Abs(kxy - kyx) <= 1e-12 * Math.Abs(kxy), $"MMD²(X,Y) = {kxy}, MMD²(Y,X) = {kyx}");
        // With subsets: each direction is an unbiased estimate of the same quantity.
        var a = KernelInceptionDistance.Compute(x, y, subsets: 50, seed: 1);
        var b = KernelInceptionDistance.Compute(y, x, subsets: 50, seed: 1);
        Assert.True(Math.Abs(a.Mean - b.Mean) <= 3 * (a.StandardDeviation + b.StandardDeviation) / Math.Sqrt(50),
            $"KID(X,Y) = {a.Mean} ± {a.StandardDeviation}, KID(Y,X) = {b.Mean} ± {b.StandardDeviation}");
    }

    [Fact]
    public void KidIsNearZeroForOneDistributionAndPositiveForTwo()
    {
        var rng = new Random(11);
        var x = RandomFeatures(400, 16, rng, shift: 0);
        var same = RandomFeatures(400, 16, rng, shift: 0);
        var other = RandomFeatures(400, 16, rng, shift: 0.5);
        var kSame = KernelInceptionDistance.Compute(x, same, subsets: 20, seed: 2);
        var kOther = KernelInceptionDistance.Compute(x, other, subsets: 20, seed: 2);
        Assert.Equal(200, kSame.SubsetSize);
        Assert.True(Math.Abs(kSame.Mean) < 3 * kSame.StandardDeviation + 1e-3, $"KID same = {kSame.Mean} ± {kSame.StandardDeviation}");
        Assert.True(kOther.Mean > 10 * Math.Abs(kSame.Mean) && kOther.Mean > 5 * kOther.StandardDeviation / Math.Sqrt(20),
            $"KID other = {kOther.Mean} ± {kOther.StandardDeviation}, same = {kSame.Mean}");
        // Same seed, same answer.
        Assert.Equal(kOther, KernelInceptionDistance.Compute(x, other, subsets: 20, seed: 2));
    }

    [Fact]
    public void PrecomputedKernelsAndPerSubsetKernelsGiveTheSameKid()
    {
        var rng = new Random(21);
        var x = RandomFeatures(120, 24, rng, shift: 0);
        var y = RandomFeatures(90, 24, rng, shift: 0.2);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var tx = TorchSharp.torch.tensor(x.SelectMany(r => r.Select(v => (double)v)).ToArray(), [120, 24], dtype: TorchSharp.torch.ScalarType.Float64);
        var ty = TorchSharp.torch.tensor(y.SelectMany(r => r.Select(v => (double)v)).ToArray(), [90, 24], dtype: TorchSharp.torch.ScalarType.Float64);
        var full = KernelInceptionDistance.Compute(tx, ty, 15, 40, 3, precompute: true);
        var perSubset = KernelInceptionDistance.Compute(tx, ty, 15, 40, 3, precompute: false);
        Assert.Equal(perSubset.Mean, full.Mean, 10);
        Assert.Equal(perSubset.StandardDeviation, full.StandardDeviation, 10);
    }

    [Fact]
    public void BadInputsAreRejectedWithClearMessages()
    {
        var ex = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(new[] { new double[] { 1, 2 }, new double[] { 1 } }, new[] { new double[] { 1, 2 }, new double[] { 3, 4 } }));
        Assert.Contains("row 1 has 1 features", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new FeatureStatistics([0, 0], [1, 2, 3, 1], 2));
        Assert.Contains("not symmetric", ex.Message);
        var nan = Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(new[] { new[] { float.NaN, 1f }, new[] { 1f, 2f } }, new[] { new[] { 1f, 1f }, new[] { 1f, 2f } }));
        Assert.Contains("row 0, element 0", nan.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelInceptionDistance.Compute(new[] { new[] { 1f }, new[] { 2f } }, new[] { new[] { 1f }, new[] { 2f } }, subsetSize: 3));
    }

    /// <summary>Non-negative, correlated features (like post-ReLU activations), optionally shifted.</summary>
    internal static float[][] RandomFeatures(int n, int d, Random rng, double shift)
    {
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            double common = rng.NextDouble();
            for (int k = 0; k < d; k++)
                rows[i][k] = (float)Math.Max(0, common * (k % 3) + Gaussian(rng) + shift * (k % 2 == 0 ? 1 : -1));
        }
        return rows;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
