namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>
/// Chi-square goodness of fit for the generator tests: the survival function via the regularized upper incomplete
/// gamma function Q(k/2, x/2) (series below a+1, Lentz continued fraction above, Lanczos log-gamma), and a test that
/// pools sparse bins so that every expected count is at least 5.
/// </summary>
internal static class ChiSquare
{
    private static readonly double[] s_lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>P(X ≥ x) for X ~ χ²(df).</summary>
    public static double Survival(double x, double df)
    {
        if (!(df > 0)) throw new ArgumentOutOfRangeException(nameof(df), df, "Degrees of freedom must be positive.");
        if (x <= 0) return 1;
        return UpperRegularizedGamma(df / 2, x / 2);
    }

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a).</summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (!(a > 0)) throw new ArgumentOutOfRangeException(nameof(a), a, "a must be positive.");
        if (x < 0) throw new ArgumentOutOfRangeException(nameof(x), x, "x must be ≥ 0.");
        if (x == 0) return 1;
        double logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            // P(a, x) = x^a e^-x / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
            double term = 1 / a, sum = term;
            for (int n = 1; n < 10_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-15) break;
            }
            return 1 - sum * Math.Exp(logPrefix);
        }
        // Q(a, x) = x^a e^-x / Γ(a) · 1 / (x + 1 - a - 1·(1-a) / (x + 3 - a - …)), modified Lentz.
        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15) break;
        }
        return Math.Exp(logPrefix) * h;
    }

    /// <summary>ln Γ(x) (Lanczos, g = 7; reflection below 0.5).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        double sum = s_lanczos[0];
        for (int i = 1; i < s_lanczos.Length; i++) sum += s_lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>
    /// Pearson's goodness-of-fit test of observed counts against probabilities. Bins with an expected count below 5
    /// are pooled (in order) so the χ² approximation holds. Returns the statistic, degrees of freedom and p-value.
    /// </summary>
    public static (double Statistic, int DegreesOfFreedom, double PValue) GoodnessOfFit(IReadOnlyList<int> observed, IReadOnlyList<double> probabilities)
    {
        if (observed.Count != probabilities.Count) throw new ArgumentException("One probability per bin is required.");
        double n = observed.Sum();
        double total = probabilities.Sum();
        var bins = new List<(double Observed, double Expected)>();
        double o = 0, e = 0;
        for (int i = 0; i < observed.Count; i++)
        {
            o += observed[i];
            e += n * probabilities[i] / total;
            if (e >= 5)
            {
                bins.Add((o, e));
                o = e = 0;
            }
        }
        if (e > 0 || o > 0)
        {
            if (bins.Count == 0) bins.Add((o, e));
            else bins[^1] = (bins[^1].Observed + o, bins[^1].Expected + e);
        }
        double stat = bins.Sum(b => (b.Observed - b.Expected) * (b.Observed - b.Expected) / b.Expected);
        int df = bins.Count - 1;
        return (stat, df, df > 0 ? Survival(stat, df) : 1);
    }
}
