namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>How a trainer's learning rate changes over its budget.</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear warm-up, then constant.</summary>
    Constant,

    /// <summary>Linear warm-up, then a half cosine down to a final fraction at the end of the budget.</summary>
    Cosine,
}

/// <summary>The learning-rate multiplier of a schedule at a point of training.</summary>
internal static class LearningRateScheduleMath
{
    /// <summary>
    /// The multiplier of the base rate after <paramref name="step"/> steps, with <paramref name="progress"/> the
    /// fraction of the budget used (0 to 1).
    /// </summary>
    public static double Factor(LearningRateSchedule schedule, int step, int warmupSteps, double progress, double finalFraction)
    {
        double warm = warmupSteps > 0 ? Math.Min(1.0, (step + 1.0) / warmupSteps) : 1.0;
        if (schedule == LearningRateSchedule.Constant) return warm;
        double p = Math.Clamp(progress, 0, 1);
        double cosine = finalFraction + (1 - finalFraction) * 0.5 * (1 + Math.Cos(Math.PI * p));
        return warm * cosine;
    }
}
