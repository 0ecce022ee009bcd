using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;

namespace Microsoft.ML.DiffNft.Pipeline;

public sealed partial class QuickstartPipeline
{
    /// <summary>The metrics this run's evaluate stage computed (with per-image scores), by set label; empty when it was skipped.</summary>
    private readonly Dictionary<string, NftGenerationMetrics> _evaluated = new(StringComparer.Ordinal);

    /// <summary>Images shown in each model's contact sheet (<c>grid.png</c>).</summary>
    private const int GridImages = 64;

    /// <summary>
    /// The image sets: the base model's, the tuned model's, and one per α of the curve (the update scaled by α), with
    /// where their images and metrics go. α is null for the two models themselves.
    /// </summary>
    private (string Label, double? Alpha, string Folder, string Metrics)[] Sets =>
        new (string, double?, string, string)[] { ("base", null, Paths.GeneratedBase, Paths.BaseMetrics), ("tuned", null, Paths.GeneratedTuned, Paths.TunedMetrics) }
            .Concat(Options.AlphaCurve.Order().Select(a => (QuickstartPaths.AlphaLabel(a), (double?)a, Paths.GeneratedAlpha(a), Paths.AlphaMetrics(a))))
            .ToArray();

    /// <summary>The model of a set: the base or the tuned model, or base + α·(tuned − base).</summary>
    private DiffusionModel LoadSetModel(string label, double? alpha)
    {
        if (alpha is not { } a) return DiffusionModel.Load(label == "base" ? Paths.BaseModel : Paths.TunedModel);
        using var baseModel = DiffusionModel.Load(Paths.BaseModel);
        using var tuned = DiffusionModel.Load(Paths.TunedModel);
        return DiffusionModel.Blend(baseModel, tuned, a);
    }

    private void GenerateStage()
    {
        var o = Options;
        // The α curve joins the fingerprint only when it is not empty, so runs without one keep their fingerprints.
        string settings = StageFingerprint.Describe(new { o.SampleCount, o.GenerationPrompt, o.GenerationSeed, o.Generation })
            + (o.AlphaCurve.Count > 0 ? ";alpha=" + string.Join(",", o.AlphaCurve.Order().Select(a => a.ToString("R", CultureInfo.InvariantCulture))) : "");
        string fingerprint = StageFingerprint.Of(QuickstartStage.Generate, settings, Fingerprint(QuickstartStage.BaseModel), Fingerprint(QuickstartStage.FineTune));
        var outputs = Sets.SelectMany(s => new[] { Path.Combine(s.Folder, "images", $"{o.SampleCount - 1}.png"), Path.Combine(s.Folder, "grid.png") }).ToArray();
        RunStage(QuickstartStage.Generate, fingerprint, outputs, Array.Empty<string>(), context =>
        {
            int n = o.SampleCount;
            var prompts = Enumerable.Repeat(o.GenerationPrompt!, n).ToList();
            // The same prompts and seeds for both models, so the two sets differ by the weights alone.
            var seeds = Enumerable.Range(0, n).Select(i => o.GenerationSeed + i).ToList();
            var sets = Sets;
            for (int k = 0; k < sets.Length; k++)
            {
                var (label, alpha, folder, _) = sets[k];
                int offset = k * n;
                using var model = LoadSetModel(label, alpha);
                var images = GenerateAtWorkingSize(model, prompts, seeds,
                    new SynchronousProgress<int>(done => context.Report((offset + done) / ((double)sets.Length * n), $"{label}: {done:N0}/{n:N0} images")));
                // Stale images of a run with a larger N would otherwise join this set in the evaluation.
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                for (int i = 0; i < images.Length; i++)
                    PngCodec.Save(images[i], Path.Combine(folder, "images", $"{i}.png"));
                PngCodec.Save(ContactSheet.Build(images.Take(GridImages).ToList(), scale: 3), Path.Combine(folder, "grid.png"));
            }
            string alphas = o.AlphaCurve.Count > 0 ? $" and from the update scaled by α = {string.Join(", ", o.AlphaCurve.Order().Select(a => a.ToString("G4", CultureInfo.InvariantCulture)))}" : "";
            return new StageOutcome($"{N(n)} images from each model{alphas} (\"{o.GenerationPrompt}\", seeds {o.GenerationSeed}…{o.GenerationSeed + n - 1}, {o.Generation.Steps} DDIM steps)",
                new() { ["images_per_model"] = n, ["sampling_steps"] = o.Generation.Steps, ["guidance"] = o.Generation.GuidanceScale });
        });
    }

    private void EvaluateStage()
    {
        var o = Options;
        string settings = StageFingerprint.Describe(new { o.SampleCount, o.EvaluationSeed, o.KidSubsets });
        string fingerprint = StageFingerprint.Of(QuickstartStage.Evaluate, settings, Fingerprint(QuickstartStage.Generate), Fingerprint(QuickstartStage.Collection));
        RunStage(QuickstartStage.Evaluate, fingerprint, Sets.Select(s => s.Metrics).ToArray(), Array.Empty<string>(), context =>
        {
            var ct = o.CancellationToken;
            context.Report(0, "loading the collection");
            var reference = EvaluationData.LoadReference(Paths.Collection, ct);
            // One ResNet-18 for both sets; the reference sample is the same (same seed), so the second set reuses its features.
            using var owned = o.ResNet18Extractor is null ? new ResNet18FeatureExtractor() : null;
            var resnet = o.ResNet18Extractor ?? owned!;
            using var judge = LoadJudge();
            var numbers = new Dictionary<string, double>();
            var metrics = new Dictionary<string, NftGenerationMetrics>();
            var sets = Sets;
            for (int k = 0; k < sets.Length; k++)
            {
                var (label, alpha, folder, metricsPath) = sets[k];
                context.Report((double)k / sets.Length, $"{label}: FID-ResNet18, KID and decoded rarity of {N(o.SampleCount)} images");
                var images = EvaluationData.LoadImageFolder(folder, ct).Tokens.Select(t => t.Image!).ToList();
                var m = _mlContext.NftGeneration.Evaluate(images, reference, EvaluatorOptions(o.SampleCount, o.KidSubsets, resnet, judge));
                AtomicFile.WriteAllText(metricsPath, m.ToJson());
                metrics[label] = m;
                _evaluated[label] = m;
                if (alpha is not null) continue; // the α sets' numbers are in their metrics files and the report
                numbers[$"fid_resnet18_{label}"] = m.FidResNet18;
                if (m.RareRate is { } r) numbers[$"rare_rate_{label}"] = r;
                if (m.RarityScore is { } s) numbers[$"rarity_score_{label}"] = s;
                if (m.DecodableRate is { } d) numbers[$"decodable_rate_{label}"] = d;
            }
            var b = metrics["base"];
            var t = metrics["tuned"];
            return new StageOutcome(string.Create(CultureInfo.InvariantCulture,
                $"rare rate {Percent(b.RareRate)} → {Percent(t.RareRate)}; FID-ResNet18 {b.FidResNet18:F2} → {t.FidResNet18:F2}; decodable {Percent(b.DecodableRate)} → {Percent(t.DecodableRate)}"),
                numbers);
        });
    }

    /// <summary>
    /// The HTML report: the collection's, the base model's and the tuned model's grids, both models' metrics, the
    /// fidelity–rarity plot and the rarity histograms (per-image scores exist when this run evaluated; a rerun that skipped
    /// the evaluation shows the table and the plot without histograms).
    /// </summary>
    private NftReport BuildHtmlReport(NftGenerationMetrics baseMetrics, NftGenerationMetrics tunedMetrics)
    {
        var o = Options;
        var report = new NftReport { Title = "DiffNft quickstart", Base = baseMetrics, Tuned = tunedMetrics, TunedName = "tuned" };
        void Set(string key, string value) => report.Settings.Add(new(key, value));
        var ft = o.FineTune;
        foreach (string warning in Warnings()) report.Warnings.Add(warning);
        Set("collection", o.CollectionPath is { } own ? $"{Path.GetFullPath(own)} (at its working size in {Paths.Collection})" : Paths.Collection);
        var collectionStage = _results.FirstOrDefault(r => r.Stage == QuickstartStage.Collection);
        if (o.CollectionPath is not null && collectionStage is not null) Set("images", collectionStage.Summary);
        var judgeStage = _results.FirstOrDefault(r => r.Stage == QuickstartStage.Judge);
        if (judgeStage is not null) Set("judge", judgeStage.Summary);
        Set("reward", string.Create(CultureInfo.InvariantCulture, $"{o.RarityWeight:G4}·rarity ({o.RarityOutput}) + {o.FidelityWeight:G4}·fidelity"));
        Set("fine_tune", string.Create(CultureInfo.InvariantCulture,
            $"{ft.Mode}, {ft.MaxIterations} iterations{(o.FineTuneTime is { } t ? $" (time guard {t.TotalMinutes:G4} min)" : "")}, {ft.PromptsPerIteration}×{ft.ImagesPerPrompt} images, {ft.SamplingSteps} steps, lr {ft.LearningRate:G3}, β {ft.KlWeight:G3}, LoRA rank {ft.LoraRank}, seed {ft.EffectiveSeed}"));
        Set("generation", string.Create(CultureInfo.InvariantCulture,
            $"{o.SampleCount} images per model, \"{o.GenerationPrompt}\", seeds {o.GenerationSeed}…{o.GenerationSeed + o.SampleCount - 1}, {o.Generation.Steps} DDIM steps, guidance {o.Generation.GuidanceScale:G3}"));
        Set("evaluation", string.Create(CultureInfo.InvariantCulture, $"N = {o.SampleCount}, seed {o.EvaluationSeed}, against the training collection"));
        if (!File.Exists(Paths.ReferenceGrid))
        {
            var reference = EvaluationData.LoadImageFolder(Path.Combine(Paths.Collection, "images"), o.CancellationToken).Tokens
                .Take(GridImages).Select(t => t.Image!).ToList();
            PngCodec.Save(ContactSheet.Build(reference, scale: 3), Paths.ReferenceGrid);
        }
        report.Grids.Add(new ReportImage("collection (reference)", File.ReadAllBytes(Paths.ReferenceGrid)));
        report.Grids.Add(new ReportImage("base model", File.ReadAllBytes(Path.Combine(Paths.GeneratedBase, "grid.png"))));
        report.Grids.Add(new ReportImage("fine-tuned model", File.ReadAllBytes(Path.Combine(Paths.GeneratedTuned, "grid.png"))));
        foreach (var (alpha, metrics) in AlphaCurveMetrics()) report.AlphaCurve.Add(new ReportCurvePoint(alpha, metrics));
        foreach (var point in ValidationPoints()) report.Validation.Add(point);
        return report;
    }

    /// <summary>What the report must flag: a fine-tuning stage that the time guard stopped before its iterations.</summary>
    private IEnumerable<string> Warnings()
    {
        var fineTune = _results.FirstOrDefault(r => r.Stage == QuickstartStage.FineTune);
        if (fineTune is not null && fineTune.Numbers.GetValueOrDefault("time_capped") == 1)
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Fine-tuning was stopped by its {Options.FineTuneTime?.TotalMinutes:G4}-minute time guard after {fineTune.Numbers.GetValueOrDefault("iterations"):N0} of {fineTune.Numbers.GetValueOrDefault("iterations_planned"):N0} iterations, so the tuned model is weaker than the method's; rerun with a larger --minutes-finetune (on a busy machine, or with fewer threads).");
    }

    /// <summary>The α curve's metrics, in increasing α: this run's evaluation, else the metrics files.</summary>
    private List<(double Alpha, NftGenerationMetrics Metrics)> AlphaCurveMetrics() =>
        Options.AlphaCurve.Order().Select(a => (a, _evaluated.GetValueOrDefault(QuickstartPaths.AlphaLabel(a)) ?? NftGenerationMetricsJson.Load(Paths.AlphaMetrics(a)))).ToList();

    /// <summary>The validation trajectory of fine-tuning (<c>validation.csv</c>), or none when validation is off.</summary>
    private List<ValidationPoint> ValidationPoints() =>
        Options.ValidationEvery > 0 && File.Exists(Paths.ValidationCsv) ? ValidationTrajectory.Load(Paths.ValidationCsv) : [];

    private static string Percent(double? value) => value is { } v ? v.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private void ReportStage(NftGenerationMetrics baseMetrics, NftGenerationMetrics tunedMetrics, Stopwatch runClock)
    {
        // The report is rewritten on every run (it takes milliseconds), so it always lists this run's view of the stages.
        var clock = Stopwatch.StartNew();
        Options.Progress?.Report(new QuickstartProgress(QuickstartStage.Report, QuickstartProgressKind.Started, 0, "writing report.json and report.html"));
        var settings = QuickstartReport.Settings(Options, Paths);
        var provisional = new QuickstartStageResult(QuickstartStage.Report, TimeSpan.Zero, false, "report.json", new Dictionary<string, double>());
        string json = QuickstartReport.ToJson(settings, _results.Append(provisional).ToList(), baseMetrics, tunedMetrics, runClock.Elapsed, Warnings().ToList(),
            AlphaCurveMetrics(), ValidationPoints());
        AtomicFile.WriteAllText(Paths.ReportJson, json);
        // This run's evaluation carries the per-image rarity scores that the histograms need; the metrics files do not.
        NftReportWriter.WriteHtml(BuildHtmlReport(_evaluated.GetValueOrDefault("base") ?? baseMetrics,
            _evaluated.GetValueOrDefault("tuned") ?? tunedMetrics), Paths.ReportHtml);
        var result = new QuickstartStageResult(QuickstartStage.Report, clock.Elapsed, false,
            $"wrote {Path.GetFileName(Paths.ReportJson)} and {Path.GetFileName(Paths.ReportHtml)}",
            new Dictionary<string, double>());
        _results.Add(result);
        Options.Progress?.Report(new QuickstartProgress(QuickstartStage.Report, QuickstartProgressKind.Completed, 1, result.Summary, result));
    }
}
