using System.Globalization;
using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>One point of a sweep's grid: the reward weights and β of a fine-tuning run.</summary>
/// <param name="RarityWeight">w_rarity.</param>
/// <param name="FidelityWeight">w_fidelity.</param>
/// <param name="KlWeight">β, the weight of the KL to the base model.</param>
public sealed record SweepTrial(double RarityWeight, double FidelityWeight, double KlWeight)
{
    /// <summary>The trial's id and folder name, e.g. <c>r0.25-f0.75-kl0.01</c> (shortest round-trip numbers).</summary>
    public string Id => string.Create(CultureInfo.InvariantCulture, $"r{RarityWeight:R}-f{FidelityWeight:R}-kl{KlWeight:R}");

    /// <summary>The swept settings with snake_case keys (rarity_weight, fidelity_weight, kl_weight).</summary>
    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["rarity_weight"] = RarityWeight,
        ["fidelity_weight"] = FidelityWeight,
        ["kl_weight"] = KlWeight,
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
