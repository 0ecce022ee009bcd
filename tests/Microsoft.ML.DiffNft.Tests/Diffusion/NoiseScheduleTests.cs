using Microsoft.ML.DiffNft.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class NoiseScheduleTests
{
    [Fact]
    public void LinearScheduleMatchesClosedForm()
    {
        var s = new NoiseSchedule(NoiseScheduleKind.Linear, 1000, 1e-4, 0.02);
        Assert.Equal(1e-4, s.Betas[0], 15);
        Assert.Equal(0.02, s.Betas[999], 15);
        Assert.Equal(1e-4 + (0.02 - 1e-4) * 500 / 999, s.Betas[500], 15);
        // ᾱ_t = Π (1 − β_s): compare with the log-sum computed independently.
        double logSum = 0;
        for (int t = 0; t <= 999; t++) logSum += Math.Log(1 - s.Betas[t]);
        Assert.Equal(Math.Exp(logSum), s.AlphasCumprod[999], 12);
        Assert.Equal(4.035e-5, s.AlphasCumprod[999], 7); // the well-known value for DDPM's linear schedule
    }

    [Fact]
    public void CosineScheduleMatchesClosedFormAlphaBar()
    {
        var s = new NoiseSchedule(NoiseScheduleKind.Cosine, 1000);
        double F(double t) => Math.Pow(Math.Cos((t / 1000 + 0.008) / 1.008 * Math.PI / 2), 2);
        foreach (int t in new[] { 0, 10, 250, 500, 900 })
            Assert.Equal(F(t + 1) / F(0), s.AlphasCumprod[t], 9);
        Assert.All(s.Betas, b => Assert.InRange(b, 0, 0.999));
    }

    [Fact]
    public void DdimTimestepsAreEvenlySpacedAndClampAtZero()
    {
        var s = new NoiseSchedule();
        var ts = s.DdimTimesteps(20);
        Assert.Equal(999, ts[0]);
        Assert.Equal(49, ts[^1]);
        Assert.All(ts.Zip(ts.Skip(1)), p => Assert.Equal(50, p.First - p.Second));
        Assert.Equal(s.AlphasCumprod[0], s.AlphaBar(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.DdimTimesteps(0));
    }

    [Fact]
    public void TheScaledLinearScheduleIsStableDiffusions()
    {
        // Stable Diffusion's scheduler config: scaled_linear, β from 0.00085 to 0.012, T = 1000. Expected values from
        // numpy: cumprod(1 − linspace(√0.00085, √0.012, 1000)²) in float64.
        var s = new NoiseSchedule(NoiseScheduleKind.ScaledLinear, 1000, 0.00085, 0.012);
        Assert.Equal(0.99915, s.AlphaBar(0), 12);
        Assert.Equal(0.2763326838229746, s.AlphaBar(500), 12);
        Assert.Equal(0.004660098513077238, s.AlphaBar(999), 12);
    }

    [Fact]
    public void LeadingSpacingVisitsDiffusersTimesteps()
    {
        // diffusers' DDIM "leading" with steps_offset 1 and 4 steps: (arange(4) · 250)[::-1] + 1.
        var s = new NoiseSchedule(NoiseScheduleKind.ScaledLinear, 1000, 0.00085, 0.012, TimestepSpacing.Leading, stepsOffset: 1);
        Assert.Equal([751, 501, 251, 1], s.DdimTimesteps(4));
        Assert.Equal([999, 749, 499, 249], new NoiseSchedule().DdimTimesteps(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoiseSchedule(stepsOffset: 1000));
    }
}
