namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>The shape of the forward-process variance schedule.</summary>
public enum NoiseScheduleKind
{
    /// <summary>β linear from <c>BetaStart</c> to <c>BetaEnd</c> (Ho et al. 2020).</summary>
    Linear,
    /// <summary>ᾱ(t) = cos²(((t/T + s)/(1 + s))·π/2) / ᾱ(0), s = 0.008, β clipped at 0.999 (Nichol and Dhariwal 2021).</summary>
    Cosine,
    /// <summary>√β linear from √<c>BetaStart</c> to √<c>BetaEnd</c> (Stable Diffusion's <c>scaled_linear</c>).</summary>
    ScaledLinear,
}

/// <summary>Which training timesteps a DDIM sampler with S steps visits (stride k = ⌊T/S⌋).</summary>
internal enum TimestepSpacing
{
    /// <summary>T−1, T−1−k, …: starts at the noisiest timestep (diffusers' <c>trailing</c> when S divides T).</summary>
    Trailing,
    /// <summary>(S−1)·k + offset, …, k + offset, offset: diffusers' <c>leading</c>, the Stable Diffusion default.</summary>
    Leading,
}

/// <summary>
/// A discrete DDPM noise schedule: β_t, α_t = 1 − β_t and ᾱ_t = Π α_s for t = 0 … T−1, computed in double precision
/// (float32 cumulative products drift by ~1e-6 over 1,000 steps, which is visible in PPO ratios).
/// </summary>
internal sealed class NoiseSchedule
{
    /// <summary>Creates a schedule.</summary>
    /// <param name="kind">Linear or cosine.</param>
    /// <param name="timesteps">Number of training timesteps T.</param>
    /// <param name="betaStart">First β of the linear schedule.</param>
    /// <param name="betaEnd">Last β of the linear schedule.</param>
    /// <param name="spacing">Which timesteps DDIM sampling visits.</param>
    /// <param name="stepsOffset">Added to every <see cref="TimestepSpacing.Leading"/> timestep (diffusers' <c>steps_offset</c>).</param>
    public NoiseSchedule(NoiseScheduleKind kind = NoiseScheduleKind.Linear, int timesteps = 1000, double betaStart = 1e-4, double betaEnd = 0.02,
        TimestepSpacing spacing = TimestepSpacing.Trailing, int stepsOffset = 0)
    {
        if (timesteps < 2) throw new ArgumentOutOfRangeException(nameof(timesteps), timesteps, "A schedule needs at least 2 timesteps.");
        if (!(betaStart > 0 && betaStart < 1)) throw new ArgumentOutOfRangeException(nameof(betaStart), betaStart, "β must lie in (0, 1).");
        if (!(betaEnd > 0 && betaEnd < 1)) throw new ArgumentOutOfRangeException(nameof(betaEnd), betaEnd, "β must lie in (0, 1).");
        if (stepsOffset < 0 || stepsOffset >= timesteps)
            throw new ArgumentOutOfRangeException(nameof(stepsOffset), stepsOffset, $"The steps offset must lie in 0 … {timesteps - 1}.");
        Kind = kind;
        Timesteps = timesteps;
        Spacing = spacing;
        StepsOffset = stepsOffset;
        Betas = new double[timesteps];
        AlphasCumprod = new double[timesteps];
        if (kind == NoiseScheduleKind.Linear)
        {
            for (int t = 0; t < timesteps; t++)
                Betas[t] = betaStart + (betaEnd - betaStart) * t / (timesteps - 1);
        }
        else if (kind == NoiseScheduleKind.ScaledLinear)
        {
            double a = Math.Sqrt(betaStart), b = Math.Sqrt(betaEnd);
            for (int t = 0; t < timesteps; t++)
            {
                double r = a + (b - a) * t / (timesteps - 1);
                Betas[t] = r * r;
            }
        }
        else
        {
            const double s = 0.008;
            double F(int t) => Math.Pow(Math.Cos((t / (double)timesteps + s) / (1 + s) * Math.PI / 2), 2);
            for (int t = 0; t < timesteps; t++)
                Betas[t] = Math.Min(1 - F(t + 1) / F(t), 0.999);
        }
        double prod = 1;
        for (int t = 0; t < timesteps; t++)
        {
            prod *= 1 - Betas[t];
            AlphasCumprod[t] = prod;
        }
    }

    /// <summary>Linear, cosine or scaled linear.</summary>
    public NoiseScheduleKind Kind { get; }

    /// <summary>Which timesteps DDIM sampling visits.</summary>
    public TimestepSpacing Spacing { get; }

    /// <summary>The offset of <see cref="TimestepSpacing.Leading"/> timesteps.</summary>
    public int StepsOffset { get; }

    /// <summary>Number of training timesteps T.</summary>
    public int Timesteps { get; }

    /// <summary>β_t for t = 0 … T−1.</summary>
    public double[] Betas { get; }

    /// <summary>ᾱ_t = Π_{s≤t} (1 − β_s) for t = 0 … T−1.</summary>
    public double[] AlphasCumprod { get; }

    /// <summary>
    /// ᾱ at a timestep; a negative timestep (the step after the last DDIM step) is clamped to 0, as DDPO does,
    /// so the final step lands on ᾱ_0 rather than on 1.
    /// </summary>
    public double AlphaBar(int t) => AlphasCumprod[Math.Clamp(t, 0, Timesteps - 1)];

    /// <summary>
    /// The DDIM timesteps for <paramref name="steps"/> sampling steps, descending. Trailing: T−1−k·(T/steps)… e.g. 999,
    /// 949, …, 49 for T = 1000 and 20 steps. Leading: e.g. 951, 901, …, 1 with offset 1. Each step goes from t to
    /// t − ⌊T/steps⌋, the last one to ᾱ_0 (<see cref="AlphaBar"/> clamps).
    /// </summary>
    public int[] DdimTimesteps(int steps)
    {
        if (steps < 1 || steps > Timesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Sampling steps must lie in 1 … {Timesteps}.");
        int stride = Timesteps / steps;
        var ts = new int[steps];
        for (int i = 0; i < steps; i++)
            ts[i] = Spacing == TimestepSpacing.Leading ? (steps - 1 - i) * stride + StepsOffset : Timesteps - 1 - i * stride;
        return ts;
    }
}
