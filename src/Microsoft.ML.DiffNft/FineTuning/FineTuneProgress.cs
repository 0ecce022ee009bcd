namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>One iteration of fine-tuning, as reported to <see cref="FineTuneOptions.Progress"/> and written to the CSV log.</summary>
/// <param name="Iteration">Iterations completed (1-based number of this one).</param>
/// <param name="MaxIterations">The iteration budget.</param>
/// <param name="RewardMean">Mean composite reward of this iteration's images.</param>
/// <param name="RewardStd">Standard deviation of the composite reward over this iteration's images.</param>
/// <param name="RewardComponents">Mean of each weighted component (by reward name) that was computed this iteration.</param>
/// <param name="Kl">Mean exact per-step KL to the base model over the trained transitions (element-averaged).</param>
/// <param name="KlWeight">β used in this iteration.</param>
/// <param name="ClipFraction">Share of trained transitions whose ratio left [1−ε, 1+ε] (0 in backprop mode).</param>
/// <param name="ApproxKl">½·mean((log π_new − log π_old)²): the KL to the rollout policy (0 in backprop mode).</param>
/// <param name="Loss">Mean training loss of the iteration.</param>
/// <param name="GradientNorm">Mean global gradient norm before clipping over the iteration's optimizer steps.</param>
/// <param name="RewardQueries">Images scored by the reward so far, including earlier runs resumed from.</param>
/// <param name="Elapsed">Wall time since fine-tuning (or resuming) started.</param>
public sealed record FineTuneProgress(
    int Iteration,
    int MaxIterations,
    double RewardMean,
    double RewardStd,
    IReadOnlyDictionary<string, double> RewardComponents,
    double Kl,
    double KlWeight,
    double ClipFraction,
    double ApproxKl,
    double Loss,
    double GradientNorm,
    long RewardQueries,
    TimeSpan Elapsed)
{
    /// <summary>One log line: iteration, rewards, KL, β, clip fraction, approximate KL, reward queries.</summary>
    public override string ToString()
    {
        var parts = string.Join(" ", RewardComponents.Select(kv => FormattableString.Invariant($"{kv.Key} {kv.Value:G4}")));
        return FormattableString.Invariant(
            $"iter {Iteration}{(MaxIterations == int.MaxValue ? "" : "/" + MaxIterations)}  reward {RewardMean:G4} ± {RewardStd:G3}{(parts.Length > 0 ? " (" + parts + ")" : "")}  kl {Kl:E2} β {KlWeight:G3}  clip {ClipFraction:P0}  approx-kl {ApproxKl:E2}  queries {RewardQueries}  {Elapsed:hh\\:mm\\:ss}");
    }
}
