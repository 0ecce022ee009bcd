using System.CommandLine;
using System.Globalization;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Sweeps;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft sweep</c>: fine-tune, generate and evaluate over a grid of reward weights; leaderboard, Pareto front, report.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        // finetune's options, worded for a sweep: each trial fine-tunes, then generates with the same steps and guidance.
        var ft = new FineTuneCliOptions(new FineTuneCliHelp
        {
            Reward = "Rarity reward: a reward model file, or builtin:NAME.",
            RarityOutput = "Which output of the rarity model is the reward (zscore, rarelogit, rarelogprobability).",
            ComponentScaling = "standardized (each reward component standardised over the batch before weighting, so the weights move the trade-off evenly) or raw.",
            KlWeight = "β when --kl-weights is not given.",
            Iterations = "Fine-tuning iterations per trial (default 10 when --minutes is not given).",
            Minutes = "Fine-tuning wall-time per trial in minutes (not reproducible iteration for iteration).",
            PromptsPerIteration = "Prompts sampled per fine-tuning iteration.",
            ImagesPerPrompt = "Images per prompt per fine-tuning iteration (K).",
            Steps = "DDIM steps of fine-tuning trajectories and of the generated images.",
            Guidance = "Classifier-free guidance scale.",
            LearningRate = "AdamW learning rate of fine-tuning (1e-2 for LoRA).",
            Seed = "Seed of fine-tuning, of the generated images (image i: seed + i) and of the evaluation.",
        });
        var reference = new Option<string>("--reference") { Description = "Reference collection folder (metadata + images) the trials are evaluated against.", Required = true };
        var rarityWeights = new Option<string>("--rarity-weights") { Description = "Comma-separated rarity weights, e.g. 0,0.25,0.5,0.75,1.", DefaultValueFactory = _ => "0,0.25,0.5,0.75,1" };
        var klWeights = new Option<string?>("--kl-weights") { Description = "Comma-separated KL weights β (a grid with the rarity weights); default: --kl-weight." };
        var repeats = new Option<int>("--repeats") { Description = "Fine-tuning runs per grid point (seeds --seed, --seed + 1, …); summary.csv and the printed summary average them.", DefaultValueFactory = _ => 1 };
        var fidelityWeight = new Option<double?>("--fidelity-weight") { Description = "A fixed fidelity weight for every trial (default: 1 − rarity weight). Only the weights' ratio matters; 1 spaces the trials evenly (docs/sweeps.md)." };
        var prompt = new Option<string>("--prompt") { Description = "Prompt of fine-tuning and generation.", DefaultValueFactory = _ => "a noun" };
        var count = new Option<int>("--count") { Description = "Images generated per trial (and for the base model).", DefaultValueFactory = _ => 200 };
        var n = new Option<int>("--n") { Description = "N of the evaluation (at most --count).", DefaultValueFactory = _ => 200 };
        var fidBudget = new Option<double?>("--fid-budget") { Description = "Leaderboard: trials with a FID above this rank after those within it." };
        var cache = new Option<string?>("--cache") { Description = "Folder for cached reference features (default: the evaluator's)." };
        var output = new Option<string>("--out") { Description = "Sweep folder: trials.csv, trials/<id>/, base/, report.html, report.json. Rerunning resumes.", Required = true };
        var overwrite = OverwriteOption.Create();
        var cluster = new ClusterCliOptions();
        var command = new Command("sweep",
            "Sweep reward weights: fine-tune the base model for each (rarity weight, KL weight), generate, evaluate against the reference, " +
            "and print the leaderboard; writes trials.csv, the Pareto front of fid_resnet18 against rare_rate and report.html/report.json. Rerunning skips finished trials.")
        {
            ft.BaseModel, ft.Reward, reference, rarityWeights, klWeights, ft.KlWeight, repeats, fidelityWeight, ft.ComponentScaling, ft.Iterations, ft.Minutes, prompt, count, n, ft.Seed,
            ft.PromptsPerIteration, ft.ImagesPerPrompt, ft.Steps, ft.Guidance, ft.LearningRate, ft.LoraRank, ft.RarityOutput, fidBudget, cache, output, overwrite, cluster.Cluster, cluster.ClusterId,
        };
        foreach (var option in ft.CollapseGuards) command.Options.Add(option);
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var err = parse.InvocationConfiguration.Error;
            var stdout = parse.InvocationConfiguration.Output;
            // Unlike finetune: 10 iterations per trial by default, and a checkpoint after every iteration.
            var fineTune = ft.ToOptions(parse, defaultIterations: 10) with { CheckpointEvery = 1 };
            var klList = parse.GetValue(klWeights) is { } kl ? ParseList(kl, "--kl-weights") : null;
            using var cancel = new CliCancellation();
            int seedValue = parse.GetValue(ft.Seed);
            var options = new RewardWeightSweepOptions
            {
                OutputDirectory = parse.GetValue(output)!,
                RarityWeights = ParseList(parse.GetValue(rarityWeights)!, "--rarity-weights"),
                KlWeights = klList,
                Repeats = parse.GetValue(repeats),
                FidelityWeight = parse.GetValue(fidelityWeight),
                FineTune = fineTune,
                Prompts = [parse.GetValue(prompt)!],
                GenerationCount = parse.GetValue(count),
                GenerationSeed = seedValue,
                Generation = new SamplingOptions { Steps = parse.GetValue(ft.Steps), GuidanceScale = parse.GetValue(ft.Guidance) },
                EvaluationSize = parse.GetValue(n),
                EvaluationSeed = seedValue,
                ReferenceCacheDirectory = parse.GetValue(cache),
                FidBudget = parse.GetValue(fidBudget),
                Progress = new SynchronousProgress<SweepProgress>(p => err.WriteLine(p.ToString())),
                CancellationToken = cancel.Token,
            };
            var sweep = new RewardWeightSweep(options);
            // The sweep's folder is its own tree (it resumes from what is there): probed, locked and checked for a user's
            // files before the first trial. A folder with trials.csv or trials/ but no marker is a sweep's from before markers.
            using var folder = OutputFolder.Open(options.OutputDirectory, "sweep", parse.GetValue(overwrite), claimed: null,
                adopt: root => File.Exists(Path.Combine(root, "trials.csv")) || Directory.Exists(Path.Combine(root, "trials")));
            folder.Begin();
            err.WriteLine($"sweep of {sweep.Trials.Count} trial(s) into {folder.Root}");
            SweepResult result;
            if (cluster.ToOptions(parse) is { } clusterOptions)
            {
                var client = ClusterCliOptions.Connect(clusterOptions, cancel.Token);
                try
                {
                    var silos = client.ActiveSilosAsync(cancel.Token).GetAwaiter().GetResult();
                    err.WriteLine($"spreading the trials over cluster '{clusterOptions.ClusterId}' ({silos.Count} silo(s): {string.Join(", ", silos)})");
                    result = client.SweepAsync(options, parse.GetValue(ft.BaseModel)!, parse.GetValue(ft.Reward)!,
                        parse.GetValue(reference)!, parse.GetValue(ft.RarityOutput), new SynchronousProgress<string>(err.WriteLine), cancel.Token).GetAwaiter().GetResult();
                }
                finally
                {
                    client.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }
            else
                result = sweep.Run(parse.GetValue(ft.BaseModel)!, parse.GetValue(ft.Reward)!, parse.GetValue(reference)!, ft.RewardLoadOptions(parse));
            folder.Complete();
            stdout.Write(LeaderboardTable(result));
            if (options.Repeats > 1)
            {
                stdout.WriteLine();
                stdout.Write(SummaryTable(result));
            }
            stdout.WriteLine($"wrote {result.TrialsCsvPath}, {result.SummaryCsvPath}, {result.ReportHtmlPath} and {result.ReportJsonPath}");
            return 0;
        }));
        return command;
    }

    /// <summary>Parses "0,0.25,1" (invariant culture); the message names the option and the token.</summary>
    internal static List<double> ParseList(string text, string option)
    {
        var values = new List<double>();
        foreach (var token in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new FormatException($"{option}: '{token}' is not a number (expected comma-separated numbers such as 0,0.25,0.5).");
            values.Add(v);
        }
        return values;
    }

    /// <summary>The grid points with the mean ± standard error of their repeats, as a fixed-width text table.</summary>
    internal static string SummaryTable(SweepResult result)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        static string F(MeanWithError e, string format) =>
            e.Mean is not { } m ? "null" : m.ToString(format, CultureInfo.InvariantCulture) + (e.StandardError is { } s ? " ± " + s.ToString(format, CultureInfo.InvariantCulture) : "");
        sw.WriteLine($"{"w_rarity",8}  {"w_fid",6}  {"beta",7}  {"runs",4}  {"rare_rate",17}  {"fid_resnet18",17}  {"duplicate_rate",17}");
        foreach (var p in result.Summary)
            sw.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.RarityWeight,8:G4}  {p.FidelityWeight,6:G4}  {p.KlWeight,7:G4}  {p.Repeats,4}  {F(p.RareRate, "F4"),17}  {F(p.FidResNet18, "F1"),17}  {F(p.DuplicateRate, "F4"),17}"));
        return sw.ToString();
    }

    /// <summary>The leaderboard as a fixed-width text table, with the base model's numbers for comparison.</summary>
    internal static string LeaderboardTable(SweepResult result)
    {
        var sw = new StringWriter(CultureInfo.InvariantCulture);
        string F(double? v, string format) => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "null";
        int idWidth = Math.Max(5, result.Trials.Select(t => t.Trial.Id.Length).DefaultIfEmpty(5).Max());
        sw.WriteLine($"{"rank",4}  {"trial".PadRight(idWidth)}  {"w_rarity",8}  {"w_fid",6}  {"beta",7}  {"fid_resnet18",12}  {"rare_rate",9}  {"rarity_score",12}  {"decodable",9}  pareto");
        foreach (var t in result.Leaderboard)
        {
            sw.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.RankOf(t),4}  {t.Trial.Id.PadRight(idWidth)}  {t.Trial.RarityWeight,8:G4}  {t.Trial.FidelityWeight,6:G4}  {t.Trial.KlWeight,7:G4}  {F(t.Metrics.FidResNet18, "F3"),12}  {F(t.Metrics.RareRate, "F4"),9}  {F(t.Metrics.RarityScore, "F4"),12}  {F(t.Metrics.DecodableRate, "F4"),9}  {(result.IsOnParetoFront(t) ? "*" : "")}"));
        }
        if (result.Base is { } b)
            sw.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"",4}  {"base".PadRight(idWidth)}  {"",8}  {"",6}  {"",7}  {F(b.FidResNet18, "F3"),12}  {F(b.RareRate, "F4"),9}  {F(b.RarityScore, "F4"),12}  {F(b.DecodableRate, "F4"),9}"));
        return sw.ToString();
    }
}
