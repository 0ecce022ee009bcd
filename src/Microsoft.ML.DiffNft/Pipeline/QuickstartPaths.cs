namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>Where each output of a quickstart run lives, under its output folder.</summary>
public sealed class QuickstartPaths
{
    /// <summary>The paths of a run writing into <paramref name="outputDirectory"/>.</summary>
    /// <param name="outputDirectory">The run's output folder.</param>
    public QuickstartPaths(string outputDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        Root = Path.GetFullPath(outputDirectory);
    }

    /// <summary>The output folder.</summary>
    public string Root { get; }

    /// <summary>The rendered collection (<c>collection/</c>: images, metadata, <c>_metadata.json</c>, <c>captions.csv</c>).</summary>
    public string Collection => Path.Combine(Root, "collection");

    /// <summary>Every token's OpenRarity score, rank and rare flag, by rank (<c>rarity.csv</c>).</summary>
    public string RarityCsv => Path.Combine(Root, "rarity.csv");

    /// <summary>The fitted trait-rarity table (<c>rarity-model.json</c>; load with <c>mlContext.Transforms.DiffNft.LoadTraitRarity</c>).</summary>
    public string RarityModel => Path.Combine(Root, "rarity-model.json");

    /// <summary>The base diffusion model (<c>models/base.diffnft</c>).</summary>
    public string BaseModel => Path.Combine(Root, "models", "base.diffnft");

    /// <summary>The rarity reward model (<c>models/reward.diffnft-reward</c>).</summary>
    public string RewardModel => Path.Combine(Root, "models", "reward.diffnft-reward");

    /// <summary>The reward model's validation metrics (<c>models/reward-metrics.json</c>).</summary>
    public string RewardMetrics => Path.Combine(Root, "models", "reward-metrics.json");

    /// <summary>The judge of a collection of one's own: a held-out trait classifier (<c>models/judge.diffnft-traits</c>).</summary>
    public string JudgeModel => Path.Combine(Root, "models", "judge.diffnft-traits");

    /// <summary>The judge's held-out metrics (<c>models/judge-metrics.json</c>).</summary>
    public string JudgeMetrics => Path.Combine(Root, "models", "judge-metrics.json");

    /// <summary>The fine-tuned diffusion model (<c>models/tuned.diffnft</c>).</summary>
    public string TunedModel => Path.Combine(Root, "models", "tuned.diffnft");

    /// <summary>The tuned model after every <see cref="QuickstartOptions.ValidationEvery"/> iterations (<c>models/snapshots/iteration-{k:D5}.diffnft</c>).</summary>
    public string Snapshots => Path.Combine(Root, "models", "snapshots");

    /// <summary>The validation trajectory: one row per validated model (<c>validation.csv</c>).</summary>
    public string ValidationCsv => Path.Combine(Root, "validation.csv");

    /// <summary>The fine-tuning log, one row per iteration (<c>finetune.log.csv</c>).</summary>
    public string FineTuneLog => Path.Combine(Root, "finetune.log.csv");

    /// <summary>Images of the base model (<c>generated/base/images/{i}.png</c> and <c>grid.png</c>).</summary>
    public string GeneratedBase => Path.Combine(Root, "generated", "base");

    /// <summary>Images of the tuned model, with the same prompts and seeds (<c>generated/tuned/</c>).</summary>
    public string GeneratedTuned => Path.Combine(Root, "generated", "tuned");

    /// <summary>The base images' metrics (<c>metrics/base.json</c>, as <c>diffnft evaluate</c> writes them).</summary>
    public string BaseMetrics => Path.Combine(Root, "metrics", "base.json");

    /// <summary>The tuned images' metrics (<c>metrics/tuned.json</c>).</summary>
    public string TunedMetrics => Path.Combine(Root, "metrics", "tuned.json");

    /// <summary>The report (<c>report.json</c>).</summary>
    public string ReportJson => Path.Combine(Root, "report.json");

    /// <summary><c>generated/alpha-{α}</c>: the images of the fine-tuning update scaled by α.</summary>
    /// <param name="alpha">The scale of the update.</param>
    public string GeneratedAlpha(double alpha) => Path.Combine(Root, "generated", AlphaLabel(alpha));

    /// <summary><c>metrics/alpha-{α}.json</c>: the evaluation of <see cref="GeneratedAlpha"/>.</summary>
    /// <param name="alpha">The scale of the update.</param>
    public string AlphaMetrics(double alpha) => Path.Combine(Root, "metrics", AlphaLabel(alpha) + ".json");

    /// <summary>The label of an α set: <c>alpha-0.5</c>.</summary>
    internal static string AlphaLabel(double alpha) => "alpha-" + alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The self-contained HTML report (grids, plots, metrics table), viewable offline.</summary>
    public string ReportHtml => Path.Combine(Root, "report.html");

    /// <summary>A contact sheet of the first reference images, shown beside the models' grids in the report.</summary>
    public string ReferenceGrid => Path.Combine(Root, "collection-grid.png");

    /// <summary>The checkpoint of base-model training with <see cref="QuickstartOptions.FromScratch"/>.</summary>
    public string BaseCheckpoint => BaseModel + ".ckpt";

    /// <summary>The checkpoint of fine-tuning.</summary>
    public string TunedCheckpoint => TunedModel + ".ckpt";
}
