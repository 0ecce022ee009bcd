using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>
/// A sweep over reward weights, the AutoML-style way to pick the rarity–fidelity trade-off: for every (w_rarity, β) of
/// the grid it fine-tunes the base model for w_rarity·rarity + w_fidelity·fidelity with KL weight β, generates images
/// with the same seeds as every other trial, evaluates them against the reference collection, and ranks the trials
/// (leaderboard and Pareto front of FID-ResNet18 against rare rate). Resumable: a trial whose <c>metrics.json</c> exists is
/// skipped, and an interrupted one continues from its fine-tuning checkpoint.
/// </summary>
/// <remarks>
/// Output folder: <c>trials.csv</c> and <c>summary.csv</c> (per grid point, over its repeats; both rewritten atomically
/// after every trial), <c>trials/&lt;id&gt;/</c> with
/// <c>model.diffnft</c> (+ <c>.ckpt</c> while running), <c>finetune.log.csv</c>, <c>images/</c>, <c>grid.png</c>,
/// <c>trial.json</c> and <c>metrics.json</c> (written last: its presence marks the trial done), <c>base/</c> (the base
/// model's images and metrics), <c>reference-grid.png</c>, <c>reference.json</c> (the reference's rarity scores), and
/// <c>report.html</c> + <c>report.json</c>. docs/sweeps.md describes them.
/// </remarks>
public sealed class RewardWeightSweep
{
    private readonly RewardWeightSweepOptions _options;

    /// <summary>Creates a sweep.</summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public RewardWeightSweep(RewardWeightSweepOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        Trials = _options.RarityWeights
            .SelectMany(w => _options.EffectiveKlWeights.SelectMany(b => Enumerable.Range(0, _options.Repeats)
                .Select(r => new SweepTrial(w, _options.FidelityWeight ?? 1 - w, b, r))))
            .ToList();
    }

    /// <summary>The grid, in the order the trials run: rarity weights outer, KL weights inner, repeats innermost.</summary>
    public IReadOnlyList<SweepTrial> Trials { get; }

    /// <summary>Runs the sweep from files: a diffusion model, a reward (file or <c>builtin:NAME</c>, see <see cref="RewardLoader"/>) and a reference collection folder.</summary>
    internal SweepResult Run(string baseModelPath, string rewardSpecification, string referencePath, RewardLoadOptions? rewardOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(baseModelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(rewardSpecification);
        ArgumentException.ThrowIfNullOrWhiteSpace(referencePath);
        var reference = EvaluationData.LoadReference(referencePath, _options.CancellationToken);
        using var inputs = FineTuneInputs.Load(baseModelPath, rewardSpecification, rewardOptions);
        return Run(inputs.BaseModel, inputs.Rarity, reference);
    }

    /// <summary>
    /// Runs one part of the sweep into its folder — the base model's evaluation (<paramref name="part"/> −1) or trial
    /// <paramref name="part"/> of <see cref="Trials"/> — resuming it like <see cref="Run(string, string, string, RewardLoadOptions?)"/>
    /// does: the unit a cluster spreads over its silos. A later <c>Run</c> over the same folder finds the parts done and
    /// writes the tables and the report.
    /// </summary>
    internal void RunPart(int part, string baseModelPath, string rewardSpecification, string referencePath, RewardLoadOptions? rewardOptions = null)
    {
        if (part < -1 || part >= Trials.Count)
            throw new ArgumentOutOfRangeException(nameof(part), part, $"A sweep part is −1 (the base model) or a trial 0 … {Trials.Count - 1}.");
        var reference = EvaluationData.LoadReference(referencePath, _options.CancellationToken);
        using var inputs = FineTuneInputs.Load(baseModelPath, rewardSpecification, rewardOptions);
        Evaluating((root, mlContext, resnet) =>
        {
            if (part >= 0) return RunTrial(Trials[part], inputs.BaseModel, inputs.Rarity, reference, mlContext, resnet, root, part).Metrics;
            WriteReferenceGrid(reference, root);
            return GenerateAndEvaluate(null, inputs.BaseModel, Path.Combine(root, "base"), reference, mlContext, resnet, 0);
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/> with what every part of a sweep evaluates with: the output folder (created), the ML.NET
    /// context seeded for evaluation, and the ResNet-18 (the options' own, or one made and disposed here).
    /// </summary>
    private T Evaluating<T>(Func<string, MLContext, ResNet18FeatureExtractor, T> body)
    {
        string root = Path.GetFullPath(_options.OutputDirectory);
        Directory.CreateDirectory(root);
        var resnet = _options.ResNet18Extractor ?? new ResNet18FeatureExtractor();
        try
        {
            return body(root, new MLContext(seed: _options.EvaluationSeed), resnet);
        }
        finally
        {
            if (_options.ResNet18Extractor is null) resnet.Dispose();
        }
    }

    /// <summary>
    /// Runs the sweep: the rarity reward is combined with the base model's <see cref="DenoisingFidelityReward"/> per trial.
    /// The base model, the reward and the reference are not modified and stay owned by the caller.
    /// </summary>
    /// <param name="baseModel">The generator whose model every trial fine-tunes (from <c>LoadDiffusionGenerator</c> or <c>TrainDiffusion</c>).</param>
    /// <param name="rarityReward">The rarity reward, for example the scorer from <c>LoadRarityReward</c>.</param>
    /// <param name="reference">The collection the trials are evaluated against.</param>
    public SweepResult Run(DiffusionGeneratorTransformer baseModel, IImageReward rarityReward, NftCollection reference)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        return Run(baseModel.PackageModel, rarityReward, reference);
    }

    /// <summary>The sweep over a model (see the public overload).</summary>
    internal SweepResult Run(DiffusionModel baseModel, IImageReward rarityReward, NftCollection reference)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(rarityReward);
        ArgumentNullException.ThrowIfNull(reference);
        var o = _options;
        var ct = o.CancellationToken;
        return Evaluating((root, mlContext, resnet) =>
        {
            WriteReferenceGrid(reference, root);
            NftGenerationMetrics? baseMetrics = null;
            if (o.EvaluateBase)
                baseMetrics = GenerateAndEvaluate(null, baseModel, Path.Combine(root, "base"), reference, mlContext, resnet, 0);

            var results = new List<SweepTrialResult>();
            foreach (var trial in Trials)
            {
                ct.ThrowIfCancellationRequested();
                results.Add(RunTrial(trial, baseModel, rarityReward, reference, mlContext, resnet, root, results.Count));
                var (board, front) = Rank(results);
                TrialsCsv.Write(Path.Combine(root, "trials.csv"), results, board, front);
                SweepPointSummary.WriteCsv(Path.Combine(root, "summary.csv"), SweepPointSummary.Summarise(results));
            }
            var (leaderboard, pareto) = Rank(results);
            var result = new SweepResult
            {
                Trials = results,
                Leaderboard = leaderboard.Select(i => results[i]).ToList(),
                ParetoFront = pareto.Select(i => results[i]).ToList(),
                Base = baseMetrics,
                OutputDirectory = root,
            };
            if (o.WriteReport)
            {
                var report = SweepReport.Build(result, o);
                NftReportWriter.WriteHtml(report, result.ReportHtmlPath);
                NftReportWriter.WriteJson(report, result.ReportJsonPath);
                Report(null, results.Count, $"wrote {result.ReportHtmlPath} and {result.ReportJsonPath}");
            }
            return result;
        });
    }

    private (IReadOnlyList<int> Leaderboard, IReadOnlyList<int> Front) Rank(List<SweepTrialResult> results)
    {
        var points = results.Select(r => (r.Metrics.FidResNet18, r.Metrics.RareRate)).ToList();
        return (SweepRanking.Leaderboard(points, _options.FidBudget), SweepRanking.ParetoFront(points));
    }

    private SweepTrialResult RunTrial(SweepTrial trial, DiffusionModel baseModel, IImageReward rarity,
        NftCollection reference, MLContext mlContext, ResNet18FeatureExtractor resnet, string root, int done)
    {
        var o = _options;
        string dir = Path.Combine(root, "trials", trial.Id);
        string metricsPath = Path.Combine(dir, "metrics.json");
        if (File.Exists(metricsPath))
        {
            var state = TrialState.Read(Path.Combine(dir, "trial.json"), trial);
            var metrics = WithScores(NftGenerationMetricsJson.Load(metricsPath), state.RarityScores, state.RareThreshold, root);
            Report(trial.Id, done + 1, "already done (metrics.json found); skipped");
            return new SweepTrialResult(trial, metrics, dir, state.Iterations, state.FineTuneSeconds, Skipped: true);
        }

        Directory.CreateDirectory(dir);
        string modelPath = Path.Combine(dir, "model.diffnft");
        string logPath = Path.Combine(dir, "finetune.log.csv");
        string infoPath = Path.Combine(dir, "finetune.json");
        int iterations;
        double seconds;
        DiffusionModel tuned;
        if (File.Exists(modelPath) && File.Exists(infoPath))
        {
            // Fine-tuning finished in an earlier run; generation or evaluation did not.
            tuned = DiffusionModel.Load(modelPath, DeviceOf(baseModel));
            using var info = SweepJson.Parse(infoPath);
            iterations = (int)SweepJson.Number(info.RootElement, "iterations", infoPath);
            seconds = SweepJson.Number(info.RootElement, "fine_tune_seconds", infoPath);
            Report(trial.Id, done, "fine-tuned model found; generating and evaluating");
        }
        else
        {
            var composite = FineTuneJob.RarityAndFidelity(baseModel, rarity, trial.RarityWeight, trial.FidelityWeight);
            string checkpoint = modelPath + ".ckpt";
            Report(trial.Id, done, File.Exists(checkpoint) ? $"resuming fine-tuning from {checkpoint}" : $"fine-tuning for {composite.Name}, β {trial.KlWeight.ToString("R", CultureInfo.InvariantCulture)}");
            var job = new FineTuneJob
            {
                BaseModel = baseModel,
                Reward = composite,
                Prompts = o.Prompts,
                Options = o.FineTune with { KlWeight = trial.KlWeight, Seed = o.FineTune.EffectiveSeed + trial.Repeat },
                Files = new FineTuneFiles(modelPath, checkpoint, logPath, Path.Combine(dir, "samples")),
                Progress = new SynchronousProgress<FineTuneProgress>(p => Report(trial.Id, done, p.ToString())),
                CancellationToken = o.CancellationToken,
            };
            var clock = Stopwatch.StartNew();
            tuned = job.Run();
            seconds = clock.Elapsed.TotalSeconds;
            // The log holds one row per iteration, including those of runs resumed from.
            iterations = File.Exists(logPath) ? Math.Max(0, File.ReadLines(logPath).Count(l => l.Length > 0) - 1) : 0;
            WriteFineTuneInfo(infoPath, iterations, seconds);
        }
        using (tuned)
        {
            var metrics = GenerateAndEvaluate(trial.Id, tuned, dir, reference, mlContext, resnet, done);
            Report(trial.Id, done + 1, string.Create(CultureInfo.InvariantCulture,
                $"fid_resnet18 {metrics.FidResNet18:F3}, rare_rate {Show(metrics.RareRate)}, decodable_rate {Show(metrics.DecodableRate)}, rarity_score {Show(metrics.RarityScore)}"));
            return new SweepTrialResult(trial, metrics, dir, iterations, seconds, Skipped: false);
        }
    }

    /// <summary>
    /// Generates the images of a model (the base when <paramref name="trialId"/> is null) into <paramref name="dir"/>, evaluates
    /// them and writes trial.json (trials only), grid.png and metrics.json — the last as the completion marker.
    /// </summary>
    private NftGenerationMetrics GenerateAndEvaluate(string? trialId, DiffusionModel model, string dir, NftCollection reference,
        MLContext mlContext, ResNet18FeatureExtractor resnet, int done)
    {
        var o = _options;
        string metricsPath = Path.Combine(dir, "metrics.json");
        string scoresPath = Path.Combine(dir, "trial.json");
        if (trialId is null && File.Exists(metricsPath))
        {
            var stored = ReadBaseScores(dir);
            Report(null, done, "base model already evaluated; skipped");
            return WithScores(NftGenerationMetricsJson.Load(metricsPath), stored.Scores, stored.Threshold, Path.GetDirectoryName(dir)!);
        }
        Report(trialId, done, $"generating {o.GenerationCount} images{(trialId is null ? " with the base model" : "")}");
        var prompts = Enumerable.Range(0, o.GenerationCount).Select(i => o.Prompts[i % o.Prompts.Count]).ToList();
        var seeds = Enumerable.Range(0, o.GenerationCount).Select(i => o.GenerationSeed + i).ToList();
        var images = model.Generate(prompts, seeds, o.Generation, cancellationToken: o.CancellationToken);
        for (int i = 0; i < images.Length; i++) PngCodec.Save(images[i], Path.Combine(dir, "images", $"{i}.png"));
        PngCodec.Save(ContactSheet.Build(images.Take(o.GridImages).ToList(), scale: 3), Path.Combine(dir, "grid.png"));

        Report(trialId, done, $"evaluating {o.EvaluationSize} images against '{reference.Name}'");
        var evaluatorOptions = new NftGenerationEvaluatorOptions
        {
            SampleSize = o.EvaluationSize,
            Seed = o.EvaluationSeed,
            ResNet18Extractor = resnet,
            ReferenceCacheDirectory = o.ReferenceCacheDirectory,
            CancellationToken = o.CancellationToken,
        };
        var metrics = new NftGenerationEvaluator(mlContext, evaluatorOptions).Evaluate(images, reference);
        string root = trialId is null ? Path.GetDirectoryName(dir)! : Path.GetDirectoryName(Path.GetDirectoryName(dir))!;
        if (metrics.ReferenceRarityScores is { } refScores) WriteReferenceScores(root, refScores, metrics.RareThreshold);
        if (trialId is null)
            WriteBaseScores(dir, metrics.RarityScores, metrics.RareThreshold);
        else
        {
            using var info = SweepJson.Parse(Path.Combine(dir, "finetune.json"));
            var trial = Trials.First(t => t.Id == trialId);
            new TrialState(trial, (int)SweepJson.Number(info.RootElement, "iterations", scoresPath),
                SweepJson.Number(info.RootElement, "fine_tune_seconds", scoresPath), metrics.RareThreshold, metrics.RarityScores).Write(scoresPath);
        }
        AtomicFile.WriteAllText(metricsPath, metrics.ToJson());
        return metrics;
    }

    private void WriteReferenceGrid(NftCollection reference, string root)
    {
        string path = Path.Combine(root, "reference-grid.png");
        if (File.Exists(path)) return;
        int count = Math.Min(_options.GridImages, reference.Count);
        var images = NftGenerationEvaluator.Sample(reference.Count, count, _options.EvaluationSeed + 1)
            .Select(i => reference.Tokens[i].Image).Where(i => i is not null).Select(i => i!).ToList();
        if (images.Count > 0) PngCodec.Save(ContactSheet.Build(images, scale: 3), path);
    }

    private static NftGenerationMetrics WithScores(NftGenerationMetrics m, IReadOnlyList<double>? scores, double? threshold, string root)
    {
        string path = Path.Combine(root, "reference.json");
        double[]? referenceScores = null;
        if (File.Exists(path))
        {
            using var doc = SweepJson.Parse(path);
            referenceScores = SweepJson.OptionalNumbers(doc.RootElement, "reference_rarity_scores", path);
        }
        return m with { RarityScores = scores, RareThreshold = threshold, ReferenceRarityScores = referenceScores };
    }

    private static void WriteReferenceScores(string root, IReadOnlyList<double> scores, double? threshold) =>
        WriteJson(Path.Combine(root, "reference.json"), w =>
        {
            if (threshold is { } t) w.WriteNumber("rare_threshold", t);
            else w.WriteNull("rare_threshold");
            ScoreList.Write(w, "reference_rarity_scores", scores);
        });

    private static void WriteBaseScores(string dir, IReadOnlyList<double>? scores, double? threshold) =>
        WriteJson(Path.Combine(dir, "scores.json"), w =>
        {
            if (threshold is { } t) w.WriteNumber("rare_threshold", t);
            else w.WriteNull("rare_threshold");
            ScoreList.Write(w, "rarity_scores", scores);
        });

    private static (double[]? Scores, double? Threshold) ReadBaseScores(string dir)
    {
        string path = Path.Combine(dir, "scores.json");
        if (!File.Exists(path)) return (null, null);
        using var doc = SweepJson.Parse(path);
        return (SweepJson.OptionalNumbers(doc.RootElement, "rarity_scores", path), SweepJson.OptionalNumber(doc.RootElement, "rare_threshold", path));
    }

    private static void WriteFineTuneInfo(string path, int iterations, double seconds) =>
        WriteJson(path, w =>
        {
            w.WriteNumber("iterations", iterations);
            w.WriteNumber("fine_tune_seconds", seconds);
        });

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(stream.ToArray()) + "\n");
    }

    private static DiffNftDevice DeviceOf(DiffusionModel model) => model.Device.type == TorchSharp.DeviceType.CUDA ? DiffNftDevice.Cuda : DiffNftDevice.Cpu;

    private void Report(string? trialId, int done, string message) =>
        _options.Progress?.Report(new SweepProgress(trialId, done, Trials.Count, message));

    private static string Show(double? v) => v is { } x ? x.ToString("F4", CultureInfo.InvariantCulture) : "null";
}
