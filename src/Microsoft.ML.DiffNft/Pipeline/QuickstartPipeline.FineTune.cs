using System.Globalization;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Pipeline;

public sealed partial class QuickstartPipeline
{
    private void FineTuneStage()
    {
        var o = Options;
        string settings = StageFingerprint.Describe(o.FineTune) + "\n" + StageFingerprint.Describe(new
        {
            o.FineTuneTime,
            o.RarityWeight,
            o.FidelityWeight,
            o.RarityOutput,
            o.FineTunePrompts,
        }) + (o.ValidationEvery > 0 ? StageFingerprint.Describe(new { o.ValidationEvery, o.ValidationSampleCount, o.FidBudget, o.EvaluationSeed }) : "");
        string fingerprint = StageFingerprint.Of(QuickstartStage.FineTune, settings, Fingerprint(QuickstartStage.BaseModel), Fingerprint(QuickstartStage.RewardModel));
        var outputs = o.ValidationEvery > 0 ? new[] { Paths.TunedModel, Paths.ValidationCsv } : new[] { Paths.TunedModel };
        RunStage(QuickstartStage.FineTune, fingerprint, outputs, new[] { Paths.TunedCheckpoint, Paths.FineTuneLog, Paths.ValidationCsv }, context =>
        {
            // Snapshots of an earlier run with other settings are not this run's iterations.
            if (!context.Resuming && Directory.Exists(Paths.Snapshots)) Directory.Delete(Paths.Snapshots, recursive: true);
            using var inputs = FineTuneInputs.Load(Paths.BaseModel, Paths.RewardModel, new RewardLoadOptions { RarityOutput = o.RarityOutput });
            var reward = FineTuneJob.RarityAndFidelity(inputs.BaseModel, inputs.Rarity, o.RarityWeight, o.FidelityWeight);
            int maxIterations = o.FineTune.MaxIterations;
            var job = new FineTuneJob
            {
                BaseModel = inputs.BaseModel,
                Reward = reward,
                Prompts = o.FineTunePrompts!,
                Options = o.FineTune with
                {
                    MaxTime = o.FineTuneTime,
                    SnapshotEvery = o.ValidationEvery,
                    SnapshotDirectory = o.ValidationEvery > 0 ? Paths.Snapshots : null,
                },
                Files = new FineTuneFiles(Paths.TunedModel, Paths.TunedCheckpoint, Paths.FineTuneLog, Path.Combine(Paths.Root, "finetune-samples")),
                CancellationToken = o.CancellationToken,
                Progress = new SynchronousProgress<FineTuneProgress>(p =>
                {
                    context.SaveSpent();
                    context.Report((double)p.Iteration / maxIterations, string.Create(CultureInfo.InvariantCulture,
                        $"iteration {p.Iteration}/{maxIterations}  reward {p.RewardMean:F3}  kl {p.Kl:E1}  threads {TorchRuntime.Threads}"));
                }),
            };
            context.Report(0, $"PPO on {string.Join(", ", o.FineTunePrompts!.Select(p => $"\"{p}\""))} for {reward.Name}");
            using (job.Run()) { }
            var log = FineTuneLogSummary.Read(Paths.FineTuneLog);
            var outcome = FineTuneOutcome(log, maxIterations, o.FineTuneTime);
            if (o.ValidationEvery == 0 || log.Iterations == 0) return outcome;
            var (points, n) = Validate(context, log.Iterations);
            var chosen = points.FirstOrDefault(p => p.Chosen);
            outcome.Numbers["validated_models"] = points.Count;
            if (chosen is not null) outcome.Numbers["chosen_iteration"] = chosen.Iteration;
            string pareto = string.Join(", ", points.Where(p => p.Pareto).Select(p => p.Iteration.ToString(CultureInfo.InvariantCulture)));
            return outcome with
            {
                Summary = outcome.Summary + $"; validated {points.Count} models at N = {n} (Pareto: iterations {pareto})" +
                          (chosen is not null ? string.Create(CultureInfo.InvariantCulture, $"; FID budget {o.FidBudget:G3}× chose iteration {chosen.Iteration}") : ""),
            };
        });
    }

    private static StageOutcome FineTuneOutcome(FineTuneLogSummary log, int maxIterations, TimeSpan? guard)
    {
        // Fewer iterations than the budget can only mean the time guard stopped the run: the summary and the report say so.
        bool capped = log.Iterations < maxIterations;
        string cap = capped
            ? string.Create(CultureInfo.InvariantCulture, $" — STOPPED BY THE {guard?.TotalMinutes:G4}-MINUTE TIME GUARD after {log.Iterations} of {maxIterations} iterations (a busy machine?)")
            : "";
        var numbers = new Dictionary<string, double> { ["iterations"] = log.Iterations, ["iterations_planned"] = maxIterations, ["time_capped"] = capped ? 1 : 0 };
        if (log.Iterations == 0)
            return new StageOutcome("0 iterations" + cap, numbers);
        numbers["reward_first"] = log.FirstReward;
        numbers["reward_last"] = log.LastReward;
        numbers["kl_last"] = log.LastKl;
        return new StageOutcome(string.Create(CultureInfo.InvariantCulture,
            $"{log.Iterations} iteration{(log.Iterations == 1 ? "" : "s")}; mean reward {log.FirstReward:F3} → {log.LastReward:F3}, KL {log.LastKl:E1}{cap}"), numbers);
    }
}

/// <summary>The first and last rows of a fine-tuning log (<c>finetune.log.csv</c>), which carries a resumed run's earlier rows too.</summary>
internal sealed record FineTuneLogSummary(int Iterations, double FirstReward, double LastReward, double LastKl)
{
    public static FineTuneLogSummary Read(string path)
    {
        if (!File.Exists(path)) return new FineTuneLogSummary(0, double.NaN, double.NaN, double.NaN);
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0)
            throw new InvalidDataException($"Fine-tuning log '{path}' is empty; expected a header line.");
        var header = lines[0].Split(',');
        int reward = Array.IndexOf(header, "reward_mean"), kl = Array.IndexOf(header, "kl");
        if (reward < 0 || kl < 0)
            throw new InvalidDataException($"Fine-tuning log '{path}': the header lacks the column 'reward_mean' or 'kl'.");
        if (lines.Length == 1) return new FineTuneLogSummary(0, double.NaN, double.NaN, double.NaN);
        double Cell(int line, int column)
        {
            var cells = lines[line].Split(',');
            if (column >= cells.Length || !double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new InvalidDataException($"Fine-tuning log '{path}', line {line + 1}: column '{header[column]}' is not a number.");
            return v;
        }
        return new FineTuneLogSummary(lines.Length - 1, Cell(1, reward), Cell(lines.Length - 1, reward), Cell(lines.Length - 1, kl));
    }
}
