using System.Globalization;
using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>One fine-tuning run of a sweep: the reward weights and β of a grid point, and which repeat of it.</summary>
/// <param name="RarityWeight">w_rarity.</param>
/// <param name="FidelityWeight">w_fidelity.</param>
/// <param name="KlWeight">β, the weight of the KL to the base model.</param>
/// <param name="Repeat">
/// Which repeat of the grid point (0 … <see cref="RewardWeightSweepOptions.Repeats"/> − 1): repeat r fine-tunes with seed
/// <see cref="FineTuning.FineTuneOptions.Seed"/> + r; the images are generated and evaluated with the same seeds for all.
/// </param>
public sealed record SweepTrial(double RarityWeight, double FidelityWeight, double KlWeight, int Repeat = 0)
{
    /// <summary>
    /// The trial's id and folder name, e.g. <c>r0.25-f0.75-kl0.01</c> (shortest round-trip numbers), with <c>-rep2</c> appended
    /// for repeats after the first — so a sweep rerun with more repeats keeps the trials it has.
    /// </summary>
    public string Id => string.Create(CultureInfo.InvariantCulture, $"r{RarityWeight:R}-f{FidelityWeight:R}-kl{KlWeight:R}{(Repeat > 0 ? $"-rep{Repeat}" : "")}");

    /// <summary>The grid point's id: <see cref="Id"/> without the repeat.</summary>
    public string PointId => (this with { Repeat = 0 }).Id;

    /// <summary>The swept settings with snake_case keys (rarity_weight, fidelity_weight, kl_weight, repeat).</summary>
    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["rarity_weight"] = RarityWeight,
        ["fidelity_weight"] = FidelityWeight,
        ["kl_weight"] = KlWeight,
        ["repeat"] = Repeat,
    };
}

/// <summary>A finished trial.</summary>
/// <param name="Trial">The weights.</param>
/// <param name="Metrics">The evaluation of the tuned model's images (with per-image rarity scores).</param>
/// <param name="Directory">The trial's folder (metrics.json, trial.json, grid.png, model.diffnft, …).</param>
/// <param name="Iterations">Fine-tuning iterations completed.</param>
/// <param name="FineTuneSeconds">Wall time of fine-tuning, summed over resumed runs.</param>
/// <param name="Skipped">True when this run found the trial finished (its metrics.json) and did not redo it.</param>
public sealed record SweepTrialResult(SweepTrial Trial, NftGenerationMetrics Metrics, string Directory, int Iterations, double FineTuneSeconds, bool Skipped);

/// <summary>What a <see cref="RewardWeightSweep"/> produced.</summary>
public sealed record SweepResult
{
    /// <summary>Every trial, in grid order (rarity weights outer, KL weights inner).</summary>
    public required IReadOnlyList<SweepTrialResult> Trials { get; init; }

    /// <summary>The trials in leaderboard order (<see cref="SweepRanking.LeaderboardRule"/>).</summary>
    public required IReadOnlyList<SweepTrialResult> Leaderboard { get; init; }

    /// <summary>The non-dominated trials in (lower FID, higher rare rate), by increasing FID.</summary>
    public required IReadOnlyList<SweepTrialResult> ParetoFront { get; init; }

    /// <summary>The base model's metrics, when <see cref="RewardWeightSweepOptions.EvaluateBase"/> was set.</summary>
    public NftGenerationMetrics? Base { get; init; }

    /// <summary>
    /// One row per grid point (in grid order): the mean and standard error of each metric over the point's finished
    /// repeats — what to compare when <see cref="RewardWeightSweepOptions.Repeats"/> is above 1.
    /// </summary>
    public IReadOnlyList<SweepPointSummary> Summary => SweepPointSummary.Summarise(Trials);

    /// <summary>The per-point table, <c>summary.csv</c>.</summary>
    public string SummaryCsvPath => Path.Combine(OutputDirectory, "summary.csv");

    /// <summary>The sweep's folder.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The trials table, <c>trials.csv</c>.</summary>
    public string TrialsCsvPath => Path.Combine(OutputDirectory, "trials.csv");

    /// <summary>The HTML report (written when <see cref="RewardWeightSweepOptions.WriteReport"/> is set).</summary>
    public string ReportHtmlPath => Path.Combine(OutputDirectory, "report.html");

    /// <summary>The JSON report.</summary>
    public string ReportJsonPath => Path.Combine(OutputDirectory, "report.json");

    /// <summary>The 1-based leaderboard place of a trial.</summary>
    public int RankOf(SweepTrialResult trial) => Leaderboard.ToList().IndexOf(trial) + 1;

    /// <summary>Whether a trial is on the Pareto front.</summary>
    public bool IsOnParetoFront(SweepTrialResult trial) => ParetoFront.Contains(trial);
}
