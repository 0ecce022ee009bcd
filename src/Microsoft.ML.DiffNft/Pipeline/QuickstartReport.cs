using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The quickstart's <c>report.json</c>: the base and the tuned model's metrics (each exactly as
/// <see cref="NftGenerationMetrics.ToJson"/> writes them: <c>n</c>, <c>fid_resnet18</c>, <c>kid_resnet18</c>,
/// <c>kid_std</c>, <c>rarity_score</c>, <c>rare_rate</c>, <c>decodable_rate</c>, <c>novelty</c>, <c>duplicate_rate</c>,
/// <c>diversity</c>), their comparison, every stage's time and key numbers, the settings and the machine.
/// </summary>
internal static class QuickstartReport
{
    /// <summary>The report's <c>format</c> value.</summary>
    public const string FormatName = "diffnft.quickstart-report";

    /// <summary>The report's <c>version</c> value.</summary>
    public const int FormatVersion = 1;

    /// <summary>The settings of a run as a JSON object with snake_case keys (what shaped the numbers).</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="paths">The run's paths.</param>
    public static JsonObject Settings(QuickstartOptions options, QuickstartPaths paths)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(paths);
        var collection = options.CollectionPath is null ? options.ResolveCollection() : null;
        var settings = new JsonObject
        {
            ["output_directory"] = paths.Root,
            ["collection"] = collection is not null
                ? new JsonObject
                {
                    ["built_in"] = BuiltInCollection.IsBuiltIn(collection),
                    ["count"] = collection.Count,
                    ["description"] = BuiltInCollection.Describe(collection),
                }
                : new JsonObject
                {
                    ["built_in"] = false,
                    ["path"] = Path.GetFullPath(options.CollectionPath!),
                },
            ["from_scratch"] = options.TrainsModels,
            ["budget_minutes"] = options.Budget is { } b ? JsonValue.Create(b.TotalMinutes) : null,
            ["base_training"] = options.TrainsModels ? StageFingerprint.ToNode(options.BaseTraining) : null,
            ["reward_training"] = options.TrainsModels ? StageFingerprint.ToNode(options.RewardTraining) : null,
            ["judge_training"] = options.CollectionPath is not null ? StageFingerprint.ToNode(options.JudgeTraining) : null,
            ["reward"] = new JsonObject
            {
                ["rarity_weight"] = options.RarityWeight,
                ["fidelity_weight"] = options.FidelityWeight,
                ["rarity_output"] = options.RarityOutput.ToString(),
            },
            ["fine_tune_prompts"] = new JsonArray((options.FineTunePrompts ?? []).Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            ["fine_tune_minutes"] = options.FineTuneTime is { } t ? JsonValue.Create(t.TotalMinutes) : null,
            ["fine_tune"] = StageFingerprint.ToNode(options.FineTune),
            ["n"] = options.SampleCount,
            ["generation"] = new JsonObject
            {
                ["prompt"] = options.GenerationPrompt,
                ["first_seed"] = options.GenerationSeed,
                ["steps"] = options.Generation.Steps,
                ["guidance"] = options.Generation.GuidanceScale,
                ["eta"] = options.Generation.Eta,
            },
            ["evaluation"] = new JsonObject
            {
                ["seed"] = options.EvaluationSeed,
                ["kid_subsets"] = options.KidSubsets,
            },
        };
        return settings;
    }

    /// <summary>The report as indented JSON.</summary>
    /// <param name="settings">The run's settings (<see cref="Settings"/>).</param>
    /// <param name="stages">Every stage's result, in order.</param>
    /// <param name="baseMetrics">The base model's metrics.</param>
    /// <param name="tunedMetrics">The tuned model's metrics.</param>
    /// <param name="runElapsed">Wall time of the run that wrote the report.</param>
    /// <param name="warnings">What a reader must know before trusting the numbers (empty for none).</param>
    /// <param name="alphaCurve">The update scaled by α and evaluated, in increasing α (empty or null for none).</param>
    /// <param name="validation">The validation trajectory of fine-tuning (empty or null for none).</param>
    public static string ToJson(JsonObject settings, IReadOnlyList<QuickstartStageResult> stages, NftGenerationMetrics baseMetrics,
        NftGenerationMetrics tunedMetrics, TimeSpan runElapsed, IReadOnlyList<string>? warnings = null,
        IReadOnlyList<(double Alpha, NftGenerationMetrics Metrics)>? alphaCurve = null, IReadOnlyList<ValidationPoint>? validation = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(baseMetrics);
        ArgumentNullException.ThrowIfNull(tunedMetrics);
        var stageArray = new JsonArray();
        foreach (var s in stages)
        {
            var numbers = new JsonObject();
            foreach (var (k, v) in s.Numbers.OrderBy(kv => kv.Key, StringComparer.Ordinal)) numbers[k] = Finite(v);
            stageArray.Add(new JsonObject
            {
                ["name"] = s.Name,
                ["seconds"] = Math.Round(s.Elapsed.TotalSeconds, 3),
                ["skipped"] = s.Skipped,
                ["summary"] = s.Summary,
                ["numbers"] = numbers,
            });
        }
        var report = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = FormatVersion,
            ["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["warnings"] = new JsonArray((warnings ?? []).Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
            ["base"] = JsonNode.Parse(baseMetrics.ToJson()),
            ["tuned"] = JsonNode.Parse(tunedMetrics.ToJson()),
            ["comparison"] = new JsonObject
            {
                ["rare_rate_ratio"] = Ratio(tunedMetrics.RareRate, baseMetrics.RareRate),
                ["rarity_score_ratio"] = Ratio(tunedMetrics.RarityScore, baseMetrics.RarityScore),
                ["fid_resnet18_change"] = Finite(tunedMetrics.FidResNet18 - baseMetrics.FidResNet18),
                ["decodable_rate_change"] = tunedMetrics.DecodableRate is { } td && baseMetrics.DecodableRate is { } bd ? Finite(td - bd) : null,
            },
            ["alpha_curve"] = new JsonArray((alphaCurve ?? []).Select(p => (JsonNode?)new JsonObject
            {
                ["alpha"] = p.Alpha,
                ["metrics"] = JsonNode.Parse(p.Metrics.ToJson()),
            }).ToArray()),
            ["validation"] = new JsonArray((validation ?? []).Select(p => (JsonNode?)ValidationTrajectory.ToJson(p)).ToArray()),
            ["stages"] = stageArray,
            ["total_stage_seconds"] = Math.Round(stages.Sum(s => s.Elapsed.TotalSeconds), 3),
            ["run_seconds"] = Math.Round(runElapsed.TotalSeconds, 3),
            ["settings"] = settings.DeepClone(),
            ["machine"] = new JsonObject
            {
                ["processor_count"] = Environment.ProcessorCount,
                ["torch_threads"] = Torch.TorchRuntime.Threads,
                ["torch_threads_follow_load"] = Torch.TorchRuntime.ThreadsFollowLoad,
                ["os"] = RuntimeInformation.OSDescription,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            },
        };
        // Relaxed escaping keeps summaries readable ("≥", "→"); the file is UTF-8 and never embedded in HTML unescaped.
        return report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static JsonNode? Ratio(double? numerator, double? denominator) =>
        numerator is { } n && denominator is { } d && d != 0 ? Finite(n / d) : null;
}
