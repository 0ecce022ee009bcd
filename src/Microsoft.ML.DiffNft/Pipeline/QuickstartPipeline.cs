using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The whole DiffNFTGen method on one collection, as <c>diffnft quickstart</c> runs it: render the collection → trait
/// rarity → base diffusion model → rarity reward model → PPO fine-tuning for rarity → N images from the base and from
/// the tuned model → both evaluated against the collection → <c>report.json</c>.
/// </summary>
/// <remarks>
/// <para>Every stage writes its outputs atomically and then a marker, <c>.stages/NAME.json</c>, holding a fingerprint of
/// its settings and of its inputs' fingerprints. A rerun into the same folder skips every finished stage whose fingerprint
/// is unchanged, and reruns the others (a changed setting reruns its stage and everything downstream).</para>
/// <para>Cancellation (<see cref="QuickstartOptions.CancellationToken"/>) stops at the next safe point with a
/// <see cref="QuickstartCanceledException"/>. Base-model training and fine-tuning save a checkpoint first and resume from
/// it on the next run (bit for bit; a fine-tuning time budget counts the time already spent); the other stages are short
/// and restart.</para>
/// </remarks>
public sealed partial class QuickstartPipeline
{
    private readonly MLContext _mlContext;
    private readonly StageMarkers _markers;
    private readonly List<QuickstartStageResult> _results = new();
    private readonly Dictionary<QuickstartStage, string> _fingerprints = new();

    /// <summary>Creates the pipeline; nothing runs until <see cref="Run"/>.</summary>
    /// <param name="options">The options; validated here.</param>
    /// <param name="mlContext">The ML.NET context whose log receives the estimators' messages; a new one (seed 0) when null.</param>
    public QuickstartPipeline(QuickstartOptions options, MLContext? mlContext = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options = QuickstartBudget.Apply(options);
        // The quickstart's documented seeds are explicit (0 unless set), never drawn from the context, so its results and
        // stage fingerprints stay what they were when the seed options were plain ints.
        Options = options with
        {
            BaseTraining = options.BaseTraining with { Seed = options.BaseTraining.EffectiveSeed },
            RewardTraining = options.RewardTraining with { Seed = options.RewardTraining.EffectiveSeed },
            FineTune = options.FineTune with { Seed = options.FineTune.EffectiveSeed },
        };
        Paths = new QuickstartPaths(options.OutputDirectory);
        _mlContext = mlContext ?? new MLContext(seed: 0);
        _markers = new StageMarkers(Paths.Root);
    }

    /// <summary>The options, with <see cref="QuickstartOptions.Budget"/> split into the stages' limits and, once the
    /// collection stage has run, the prompts resolved to the collection's subject where they were null.</summary>
    public QuickstartOptions Options { get; private set; }

    /// <summary>Where the outputs go.</summary>
    public QuickstartPaths Paths { get; }

    /// <summary>Runs (or resumes) every stage and returns the results.</summary>
    /// <exception cref="QuickstartCanceledException">The cancellation token stopped the run.</exception>
    public QuickstartResult Run()
    {
        var clock = Stopwatch.StartNew();
        _results.Clear();
        _fingerprints.Clear();
        _evaluated.Clear();
        // The folder is the quickstart's own tree: probed, locked against a second run and checked for a user's files
        // before the first stage. A folder with .stages/ but no marker was written before markers existed: it is ours.
        using var output = OutputFolder.Open(Paths.Root, "quickstart", Options.Overwrite, claimed: null, "set QuickstartOptions.Overwrite",
            adopt: root => Directory.Exists(Path.Combine(root, ".stages")));
        output.Begin();
        CollectionStage();
        ResolvePrompts();
        RarityStage();
        JudgeStage();
        BaseModelStage();
        RewardModelStage();
        FineTuneStage();
        GenerateStage();
        EvaluateStage();
        var baseMetrics = NftGenerationMetricsJson.Load(Paths.BaseMetrics);
        var tunedMetrics = NftGenerationMetricsJson.Load(Paths.TunedMetrics);
        ReportStage(baseMetrics, tunedMetrics, clock);
        output.Complete();
        return new QuickstartResult(Paths, _results.ToList(), baseMetrics, tunedMetrics, clock.Elapsed);
    }

    /// <summary>What a stage's work returns: its summary line and key numbers.</summary>
    private sealed record StageOutcome(string Summary, Dictionary<string, double> Numbers);

    /// <summary>What a stage's work can do while it runs.</summary>
    private sealed class StageContext(QuickstartPipeline pipeline, QuickstartStage stage, string fingerprint, TimeSpan spentBefore, bool resuming)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        /// <summary>Time spent on this stage by earlier, interrupted runs.</summary>
        public TimeSpan SpentBefore { get; } = spentBefore;

        /// <summary>True when an earlier run started this stage with the same settings (its checkpoint, if any, is kept).</summary>
        public bool Resuming { get; } = resuming;

        /// <summary>Time spent on this stage so far, earlier runs included.</summary>
        public TimeSpan Spent => SpentBefore + _clock.Elapsed;

        public void Report(double? fraction, string message) =>
            pipeline.Options.Progress?.Report(new QuickstartProgress(stage, QuickstartProgressKind.Advanced,
                fraction is { } f ? Math.Clamp(f, 0, 1) : null, message));

        /// <summary>Records the time spent so far, so that an interruption does not lose it.</summary>
        public void SaveSpent() => pipeline._markers.WriteRunning(stage, new RunningMarker(QuickstartStages.Name(stage), fingerprint, Spent.TotalSeconds));
    }

    /// <summary>
    /// Runs one stage unless an earlier run finished it with the same fingerprint and its outputs are still there.
    /// </summary>
    /// <param name="stage">The stage.</param>
    /// <param name="fingerprint">Its fingerprint (settings and inputs).</param>
    /// <param name="outputs">The files the stage writes; all must exist for a finished stage to be skipped.</param>
    /// <param name="checkpoints">Files of an earlier attempt, deleted when the stage starts with other settings; the first,
    /// when any, is the checkpoint the stage resumes from (the others, such as a log, are rewritten from it).</param>
    /// <param name="work">The stage's work.</param>
    private void RunStage(QuickstartStage stage, string fingerprint, string[] outputs, string[] checkpoints, Func<StageContext, StageOutcome> work)
    {
        _fingerprints[stage] = fingerprint;
        var progress = Options.Progress;
        var ct = Options.CancellationToken;
        var done = _markers.ReadDone(stage, fingerprint);
        if (done is not null && outputs.All(File.Exists))
        {
            var skipped = new QuickstartStageResult(stage, TimeSpan.FromSeconds(done.Seconds), true, done.Summary, done.Numbers);
            _results.Add(skipped);
            progress?.Report(new QuickstartProgress(stage, QuickstartProgressKind.Skipped, 1, done.Summary, skipped));
            return;
        }
        if (ct.IsCancellationRequested)
            throw new QuickstartCanceledException(stage, false, new OperationCanceledException(ct));

        var running = _markers.ReadRunning(stage);
        bool resuming = running is not null && running.Fingerprint == fingerprint;
        if (!resuming)
        {
            // Other settings (or a first run): nothing of an earlier attempt may be resumed.
            _markers.ClearDone(stage);
            foreach (var file in checkpoints) StageMarkers.DeleteIfExists(file);
        }
        var context = new StageContext(this, stage, fingerprint, resuming ? TimeSpan.FromSeconds(running!.SpentSeconds) : TimeSpan.Zero, resuming);
        context.SaveSpent();
        progress?.Report(new QuickstartProgress(stage, QuickstartProgressKind.Started, 0,
            !resuming ? "starting"
            : checkpoints.Length > 0 && File.Exists(checkpoints[0]) ? "resuming from its checkpoint"
            : checkpoints.Length > 0 ? "restarting (interrupted before its first checkpoint)"
            : "restarting (interrupted; this stage has no checkpoint)"));
        StageOutcome outcome;
        try
        {
            outcome = work(context);
        }
        catch (OperationCanceledException ex) when (ct.IsCancellationRequested)
        {
            context.SaveSpent();
            throw new QuickstartCanceledException(stage, checkpoints.Length > 0 && File.Exists(checkpoints[0]), ex);
        }
        catch
        {
            context.SaveSpent();
            throw;
        }
        var numbers = outcome.Numbers.Where(kv => double.IsFinite(kv.Value)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var spent = context.Spent;
        _markers.WriteDone(stage, new DoneMarker(QuickstartStages.Name(stage), fingerprint, spent.TotalSeconds, DateTime.UtcNow, outcome.Summary, numbers));
        var result = new QuickstartStageResult(stage, spent, false, outcome.Summary, numbers);
        _results.Add(result);
        progress?.Report(new QuickstartProgress(stage, QuickstartProgressKind.Completed, 1, outcome.Summary, result));
    }

    private string Fingerprint(QuickstartStage stage) => _fingerprints[stage];

    private static string N(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);

    private void CollectionStage()
    {
        if (Options.CollectionPath is { } source)
        {
            OwnCollectionStage(source);
            return;
        }
        var options = Options.ResolveCollection();
        string fingerprint = StageFingerprint.Of(QuickstartStage.Collection, BuiltInCollection.Describe(options));
        RunStage(QuickstartStage.Collection, fingerprint,
            new[] { Path.Combine(Paths.Collection, "_metadata.json"), Path.Combine(Paths.Collection, NftCaptions.CaptionsFileName) },
            Array.Empty<string>(), context =>
            {
                var ct = Options.CancellationToken;
                var generated = NounsCollectionGenerator.GenerateDetailed(options, ct);
                context.Report(0.5, $"rendered {N(generated.Collection.Count)} tokens");
                // Rerunning replaces the collection there, leaving no files of tokens the new one lacks.
                NftCollectionWriter.Write(generated.Collection, Paths.Collection,
                    new NftCollectionWriteOptions { ReplaceExisting = true }, cancellationToken: ct);
                return new StageOutcome(
                    $"{N(generated.Collection.Count)} Nouns ({N(generated.CombinationCount)} combinations possible)",
                    new() { ["tokens"] = generated.Collection.Count, ["combinations"] = generated.CombinationCount });
            });
    }

    private void RarityStage()
    {
        string fingerprint = StageFingerprint.Of(QuickstartStage.Rarity, "openrarity;rare_quantile=0.05", Fingerprint(QuickstartStage.Collection));
        RunStage(QuickstartStage.Rarity, fingerprint, new[] { Paths.RarityCsv, Paths.RarityModel }, Array.Empty<string>(), context =>
        {
            var collection = NftCollectionLoader.Load(Paths.Collection, new NftCollectionLoadOptions { LoadImages = false, LoadCaptions = false });
            var view = collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
            var rarity = _mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);
            var scored = rarity.Transform(view);
            var ids = scored.GetColumn<ReadOnlyMemory<char>>(NftSchema.TokenIdColumnName).Select(v => v.ToString()).ToArray();
            var scores = scored.GetColumn<double>(rarity.ScoreColumnName).ToArray();
            var ranks = scored.GetColumn<int>(rarity.RankColumnName).ToArray();
            var rare = scored.GetColumn<bool>(rarity.IsRareColumnName).ToArray();
            var order = Enumerable.Range(0, ids.Length).OrderBy(i => ranks[i]).ThenBy(i => ids[i].Length).ThenBy(i => ids[i], StringComparer.Ordinal);
            var csv = new StringBuilder("token_id,score,rank,is_rare\n");
            foreach (int i in order)
                csv.Append(ids[i]).Append(',').Append(scores[i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                   .Append(ranks[i].ToString(CultureInfo.InvariantCulture)).Append(',').Append(rare[i] ? "true" : "false").Append('\n');
            AtomicFile.WriteAllText(Paths.RarityCsv, csv.ToString());
            rarity.Save(Paths.RarityModel);
            var table = rarity.Table;
            int rareCount = rare.Count(r => r);
            return new StageOutcome(
                $"{N(table.TokenCount)} tokens over {table.Traits.Count} trait types; {N(rareCount)} rare (OpenRarity ≥ {N(table.RareThreshold, "F3")})",
                new() { ["tokens"] = table.TokenCount, ["trait_types"] = table.Traits.Count, ["rare_tokens"] = rareCount, ["rare_threshold"] = table.RareThreshold, ["max_score"] = scores.Max() });
        });
    }
}
