namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>A progress report of a <see cref="RewardWeightSweep"/>.</summary>
/// <param name="TrialId">The trial it concerns, or null for the sweep as a whole (the base model, the report).</param>
/// <param name="CompletedTrials">Trials finished so far, including those skipped because they were already done.</param>
/// <param name="TotalTrials">Trials in the grid.</param>
/// <param name="Message">What happened, one line.</param>
public sealed record SweepProgress(string? TrialId, int CompletedTrials, int TotalTrials, string Message)
{
    /// <summary>"[k/n] trial: message".</summary>
    public override string ToString() => $"[{CompletedTrials}/{TotalTrials}] {(TrialId is null ? "" : TrialId + ": ")}{Message}";
}
