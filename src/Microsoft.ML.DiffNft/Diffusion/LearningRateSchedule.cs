namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>How a trainer's learning rate changes over its budget.</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear warm-up, then constant.</summary>
    Constant,

    /// <summary>Linear warm-up, then a half cosine down to a final fraction at the end of the budget.</summary>
    Cosine,
}

/// <summary>The learning rate of every trainer at a point of training: linear warm-up, then constant or a half cosine.</summary>
internal static class LearningRateScheduleMath
{
    /// <summary>
    /// The diffusion trainer's multiplier of the base rate after <paramref name="step"/> steps, with
    /// <paramref name="progress"/> the fraction of the budget used (0 to 1): the warm-up ramp multiplies the schedule.
    /// </summary>
    public static double Factor(LearningRateSchedule schedule, int step, int warmupSteps, double progress, double finalFraction)
    {
        double warm = warmupSteps > 0 ? Math.Min(1.0, (step + 1.0) / warmupSteps) : 1.0;
        if (schedule == LearningRateSchedule.Constant) return warm;
        return warm * Cosine(progress, finalFraction);
    }

    /// <summary>
    /// The rate of the rarity reward and trait classifier trainers: <paramref name="peak"/>·(step + 1)/(warm-up + 1)
    /// during the warm-up, then the cosine from the peak down to <paramref name="finalFraction"/> of it.
    /// </summary>
    public static double WarmupThenCosine(double peak, int step, int warmupSteps, double progress, double finalFraction)
    {
        if (step < warmupSteps) return peak * (step + 1) / (warmupSteps + 1);
        return peak * Cosine(progress, finalFraction);
    }

    /// <summary>A half cosine from 1 at <paramref name="progress"/> 0 to <paramref name="finalFraction"/> at 1.</summary>
    private static double Cosine(double progress, double finalFraction)
    {
        double p = Math.Clamp(progress, 0, 1);
        return finalFraction + (1 - finalFraction) * 0.5 * (1 + Math.Cos(Math.PI * p));
    }
}
