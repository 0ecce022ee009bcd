using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Reporting;

/// <summary>
/// What a report shows: the metrics of the base and the tuned model, the rarity scores behind the histograms, sample
/// grids, and the trials of a sweep with their ranks and Pareto flags. <see cref="NftReportWriter"/> writes it as one
/// self-contained HTML page and as JSON with the same numbers.
/// </summary>
internal sealed class NftReport
{
    /// <summary>The page title.</summary>
    public string Title { get; set; } = "DiffNft report";

    /// <summary>When the report was made (written in ISO 8601).</summary>
    public DateTimeOffset Created { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The settings that produced the numbers (shown as a table, written as strings), in insertion order.</summary>
    public IList<KeyValuePair<string, string>> Settings { get; } = new List<KeyValuePair<string, string>>();

    /// <summary>
    /// What a reader must know before trusting the numbers (for example, a time guard that stopped fine-tuning early),
    /// shown under the title; empty for none.
    /// </summary>
    public IList<string> Warnings { get; } = new List<string>();

    /// <summary>Metrics of the base model's images; null when not measured.</summary>
    public NftGenerationMetrics? Base { get; set; }

    /// <summary>Metrics of the tuned model's images (for a sweep: the leaderboard's first trial); null when not measured.</summary>
    public NftGenerationMetrics? Tuned { get; set; }

    /// <summary>
    /// The fine-tuning update scaled by α (base + α·(tuned − base)) and evaluated, in increasing α: the rarity–fidelity
    /// curve of one run, drawn from the base to the tuned model. Empty for none.
    /// </summary>
    public IList<ReportCurvePoint> AlphaCurve { get; } = new List<ReportCurvePoint>();

    /// <summary>The validation trajectory of the fine-tuning run (iteration 0 is the base model); empty for none.</summary>
    internal IList<Pipeline.ValidationPoint> Validation { get; } = new List<Pipeline.ValidationPoint>();

    /// <summary>How the tuned model is named in tables and legends.</summary>
    public string TunedName { get; set; } = "tuned";

    /// <summary>
    /// Rarity scores of the reference collection's tokens for the histograms; null falls back to the base's or the tuned
    /// metrics' <see cref="NftGenerationMetrics.ReferenceRarityScores"/>.
    /// </summary>
    public IReadOnlyList<double>? ReferenceRarityScores { get; set; }

    /// <summary>The reference's rare threshold, drawn on the histograms; null falls back to the metrics' threshold.</summary>
    public double? RareThreshold { get; set; }

    /// <summary>Sample grids (PNG), shown in order: reference, base, tuned, each trial.</summary>
    public IList<ReportImage> Grids { get; } = new List<ReportImage>();

    /// <summary>The trials of a sweep (empty for a single fine-tuning run).</summary>
    public IList<ReportTrial> Trials { get; } = new List<ReportTrial>();

    /// <summary>
    /// Means over repeated trials of one setting (a sweep's grid points when it ran repeats), shown as a table before the
    /// trials; empty for none.
    /// </summary>
    public IList<ReportSummaryRow> Summary { get; } = new List<ReportSummaryRow>();

    /// <summary>The rule that ordered <see cref="ReportTrial.Rank"/>, shown under the trials table.</summary>
    public string? LeaderboardRule { get; set; }

    /// <summary>The reference scores to plot: <see cref="ReferenceRarityScores"/>, else the metrics'.</summary>
    internal IReadOnlyList<double>? EffectiveReferenceScores =>
        ReferenceRarityScores ?? Base?.ReferenceRarityScores ?? Tuned?.ReferenceRarityScores;

    /// <summary>The threshold to draw: <see cref="RareThreshold"/>, else the metrics'.</summary>
    internal double? EffectiveRareThreshold => RareThreshold ?? Base?.RareThreshold ?? Tuned?.RareThreshold;
}

/// <summary>One point of the α curve: the tuned model's update scaled by <paramref name="Alpha"/>, evaluated.</summary>
/// <param name="Alpha">The scale of the update (0 is the base model, 1 the tuned one).</param>
/// <param name="Metrics">What the evaluation measured.</param>
internal sealed record ReportCurvePoint(double Alpha, NftGenerationMetrics Metrics)
{
    /// <summary>The point's name in tables and legends: <c>α = 0.5</c>.</summary>
    public string Label => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"α = {Alpha:G4}");
}

/// <summary>A PNG image with its caption (a sample grid).</summary>
/// <param name="Caption">What the image shows, e.g. "base" or "trial r0.5-kl0.01".</param>
/// <param name="Png">The PNG file's bytes.</param>
internal sealed record ReportImage(string Caption, byte[] Png);

/// <summary>One trial of a sweep as the report shows it.</summary>
/// <param name="Id">The trial's id (its folder name).</param>
/// <param name="Parameters">The swept settings, e.g. rarity_weight, fidelity_weight, kl_weight (snake_case keys).</param>
/// <param name="Metrics">What the evaluation measured.</param>
/// <param name="Rank">1-based place on the leaderboard.</param>
/// <param name="OnParetoFront">Whether no other trial has both a lower-or-equal FID and a higher-or-equal rare rate, one strictly.</param>
internal sealed record ReportTrial(string Id, IReadOnlyDictionary<string, double> Parameters, NftGenerationMetrics Metrics, int Rank, bool OnParetoFront);

/// <summary>One setting of a sweep summarised over its repeated trials.</summary>
/// <param name="Parameters">The setting, e.g. rarity_weight, fidelity_weight, kl_weight (snake_case keys).</param>
/// <param name="Runs">How many trials the row summarises.</param>
/// <param name="Metrics">Mean and standard error per metric, keyed like <c>metrics.json</c> (rare_rate, fid_resnet18, …).</param>
internal sealed record ReportSummaryRow(IReadOnlyDictionary<string, double> Parameters, int Runs, IReadOnlyDictionary<string, Sweeps.MeanWithError> Metrics);
