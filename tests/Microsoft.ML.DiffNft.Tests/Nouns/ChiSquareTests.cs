using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>The χ² survival function used by the Nouns generator tests, checked against closed forms and table values.</summary>
public class NounsChiSquareTests
{
    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]              // the 5 % critical value with 1 df
    [InlineData(9.210340371976184, 2, 0.01)]              // the 1 % critical value with 2 df
    [InlineData(1.0, 1, 0.31731050786291404)]             // erfc(√(1/2))
    [InlineData(0.1, 1, 0.7518296340458492)]              // erfc(√0.05), the series branch
    [InlineData(30.0, 1, 4.320463057827492e-08)]          // erfc(√15), deep in the tail
    [InlineData(7.0, 3, 0.07189777249646513)]             // erfc(√3.5) + √(14/π)·e^-3.5
    [InlineData(18.307038053275146, 10, 0.05)]            // table value, 10 df
    public void SurvivalMatchesKnownValues(double x, double df, double expected)
    {
        Assert.Equal(expected, ChiSquare.Survival(x, df), expected * 1e-9);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(400)]
    public void SurvivalMatchesClosedFormForEvenDegrees(int df)
    {
        // For even df = 2m: P(X ≥ x) = e^{-x/2} Σ_{j<m} (x/2)^j / j!  — an independent formula.
        foreach (double x in new[] { 0.5, df * 0.5, df - 1.0, df, df + 3 * Math.Sqrt(2.0 * df), 3.0 * df })
        {
            double half = x / 2, term = 1, sum = 0;
            for (int j = 0; j < df / 2; j++)
            {
                sum += term;
                term *= half / (j + 1);
            }
            double expected = Math.Exp(-half) * sum;
            Assert.Equal(expected, ChiSquare.Survival(x, df), Math.Max(expected * 1e-9, 1e-15));
        }
    }

    [Fact]
    public void LogGammaMatchesFactorials()
    {
        double logFactorial = 0;
        for (int n = 1; n <= 30; n++)
        {
            Assert.Equal(logFactorial, ChiSquare.LogGamma(n), 1e-9 * Math.Max(1, logFactorial));
            logFactorial += Math.Log(n);
        }
        Assert.Equal(0.5 * Math.Log(Math.PI), ChiSquare.LogGamma(0.5), 1e-12);
    }

    [Fact]
    public void GoodnessOfFitRejectsAWrongDistributionAndAcceptsTheRightOne()
    {
        var rng = new Random(11);
        var p = new[] { 0.5, 0.3, 0.15, 0.05 };
        var counts = new int[4];
        for (int i = 0; i < 4000; i++)
        {
            double u = rng.NextDouble(), c = 0;
            int k = 0;
            while (k < 3 && u >= (c += p[k])) k++;
            counts[k]++;
        }
        Assert.True(ChiSquare.GoodnessOfFit(counts, p).PValue > 0.01);
        Assert.True(ChiSquare.GoodnessOfFit(counts, new[] { 0.25, 0.25, 0.25, 0.25 }).PValue < 1e-12);
    }
}
