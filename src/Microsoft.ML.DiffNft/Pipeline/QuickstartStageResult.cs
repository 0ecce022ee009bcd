namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>What one stage of <see cref="QuickstartPipeline"/> did.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Elapsed">
/// Wall time of the stage's work, summed over the runs that did it: a stage interrupted and resumed counts both parts,
/// and a skipped stage reports the time of the runs that finished it.
/// </param>
/// <param name="Skipped">True when an earlier run with the same settings had finished the stage, so this run reused its outputs.</param>
/// <param name="Summary">One line with the stage's key numbers, for the summary table.</param>
/// <param name="Numbers">The key numbers by name (for example <c>parameters</c>, <c>rare_rate_tuned</c>), as written to the report.</param>
public sealed record QuickstartStageResult(QuickstartStage Stage, TimeSpan Elapsed, bool Skipped, string Summary,
    IReadOnlyDictionary<string, double> Numbers)
{
    /// <summary>The stage's name (<see cref="QuickstartStages.Name"/>).</summary>
    public string Name => QuickstartStages.Name(Stage);
}
