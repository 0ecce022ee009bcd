namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// β of the KL penalty: fixed, or adapted to a KL budget with the rule of Schulman et al. (2017, PPO, §4): after an
/// iteration with KL above 1.5× the target β doubles, below target/1.5 it halves, within a bounded range.
/// </summary>
internal sealed class KlController
{
    /// <summary>β is kept within [MinBeta, MaxBeta] so that it can recover from long excursions.</summary>
    public const double MinBeta = 1e-8, MaxBeta = 1e6;

    public KlController(double beta, double? target)
    {
        Beta = beta;
        Target = target;
    }

    /// <summary>The current β.</summary>
    public double Beta { get; set; }

    /// <summary>The KL budget per step, or null for a fixed β.</summary>
    public double? Target { get; }

    /// <summary>Adapts β to the KL observed in an iteration (no-op for a fixed β or a non-finite observation).</summary>
    public void Update(double observedKl)
    {
        if (Target is not { } target || !double.IsFinite(observedKl)) return;
        if (observedKl > 1.5 * target) Beta = Math.Min(Beta * 2, MaxBeta);
        else if (observedKl < target / 1.5) Beta = Math.Max(Beta / 2, MinBeta);
    }
}
