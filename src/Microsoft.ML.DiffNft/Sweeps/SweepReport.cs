using System.Globalization;
using Microsoft.ML.DiffNft.Reporting;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>Turns a <see cref="SweepResult"/> into an <see cref="NftReport"/>: the tuned model is the leaderboard's first trial.</summary>
internal static class SweepReport
{
    /// <summary>Builds the report of a sweep, with the grids found in its folder (reference, base, each trial).</summary>
    public static NftReport Build(SweepResult result, RewardWeightSweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var best = result.Leaderboard.FirstOrDefault();
        var report = new NftReport
        {
            Title = "Reward-weight sweep",
            Base = result.Base,
            Tuned = best?.Metrics,
            TunedName = best is null ? "tuned" : "best: " + best.Trial.Id,
            LeaderboardRule = SweepRanking.LeaderboardRule +
                (options.FidBudget is { } b ? string.Create(CultureInfo.InvariantCulture, $" FID budget: {b:G6}.") : " No FID budget.") +
                " Pareto front: no other trial has a lower-or-equal FID and a higher-or-equal rare rate, one of them strictly.",
        };
        string I(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        var ft = options.FineTune;
        void Set(string key, string value) => report.Settings.Add(new(key, value));
        Set("rarity_weights", string.Join(", ", options.RarityWeights.Select(I)));
        Set("kl_weights", string.Join(", ", options.EffectiveKlWeights.Select(I)));
        Set("repeats", options.Repeats.ToString(CultureInfo.InvariantCulture) + (options.Repeats > 1 ? $" (fine-tuning seeds {ft.EffectiveSeed}…{ft.EffectiveSeed + options.Repeats - 1}; summary.csv has the means)" : ""));
        Set("fidelity_weight", options.FidelityWeight is { } f ? I(f) : "1 − rarity_weight");
        Set("fine_tune", string.Create(CultureInfo.InvariantCulture,
            $"{ft.Mode}, {(ft.MaxTime is { } t ? $"{t.TotalMinutes:G4} min" : $"{ft.MaxIterations} iterations")}, {ft.PromptsPerIteration}×{ft.ImagesPerPrompt} images, {ft.SamplingSteps} steps, lr {ft.LearningRate:G3}, LoRA rank {ft.LoraRank}, seed {ft.EffectiveSeed}"));
        Set("prompts", string.Join(" | ", options.Prompts));
        Set("generation", string.Create(CultureInfo.InvariantCulture,
            $"{options.GenerationCount} images, seeds {options.GenerationSeed}…{options.GenerationSeed + options.GenerationCount - 1}, {options.Generation.Steps} DDIM steps, guidance {options.Generation.GuidanceScale:G3}, η {options.Generation.Eta:G3}"));
        Set("evaluation", string.Create(CultureInfo.InvariantCulture, $"N = {options.EvaluationSize}, seed {options.EvaluationSeed}"));
        Set("output", result.OutputDirectory);

        foreach (var trial in result.Trials)
            report.Trials.Add(new ReportTrial(trial.Trial.Id, trial.Trial.Parameters, trial.Metrics, result.RankOf(trial), result.IsOnParetoFront(trial)));

        if (result.Trials.Any(t => t.Trial.Repeat > 0))
            foreach (var p in result.Summary)
                report.Summary.Add(new ReportSummaryRow(
                    new Dictionary<string, double>(StringComparer.Ordinal) { ["rarity_weight"] = p.RarityWeight, ["fidelity_weight"] = p.FidelityWeight, ["kl_weight"] = p.KlWeight },
                    p.Repeats, new Dictionary<string, MeanWithError>(p.Metrics, StringComparer.Ordinal)));

        AddGrid(report, Path.Combine(result.OutputDirectory, "reference-grid.png"), "reference");
        AddGrid(report, Path.Combine(result.OutputDirectory, "base", "grid.png"), "base");
        if (best is not null) AddGrid(report, Path.Combine(best.Directory, "grid.png"), report.TunedName);
        foreach (var trial in result.Trials)
            AddGrid(report, Path.Combine(trial.Directory, "grid.png"), string.Create(CultureInfo.InvariantCulture,
                $"trial {trial.Trial.Id} (rank {result.RankOf(trial)})"));
        return report;
    }

    private static void AddGrid(NftReport report, string path, string caption)
    {
        if (File.Exists(path)) report.Grids.Add(new ReportImage(caption, File.ReadAllBytes(path)));
    }
}
