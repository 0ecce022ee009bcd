using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>What a <see cref="QuickstartPipeline"/> run produced.</summary>
/// <param name="Paths">Where every output is.</param>
/// <param name="Stages">Every stage's result, in order (skipped ones carry the earlier run's time and numbers).</param>
/// <param name="BaseMetrics">The base model's images against the collection.</param>
/// <param name="TunedMetrics">The tuned model's images against the collection (same N, prompts and seeds).</param>
/// <param name="Elapsed">Wall time of this run.</param>
public sealed record QuickstartResult(QuickstartPaths Paths, IReadOnlyList<QuickstartStageResult> Stages,
    NftGenerationMetrics BaseMetrics, NftGenerationMetrics TunedMetrics, TimeSpan Elapsed)
{
    /// <summary>The result of one stage.</summary>
    /// <param name="stage">The stage.</param>
    public QuickstartStageResult this[QuickstartStage stage] => Stages.First(s => s.Stage == stage);
}
