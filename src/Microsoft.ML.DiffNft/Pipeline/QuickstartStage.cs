namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>The stages of <see cref="QuickstartPipeline"/>, in the order they run.</summary>
public enum QuickstartStage
{
    /// <summary>Render the collection: images, OpenSea metadata and captions (<c>collection/</c>).</summary>
    Collection,

    /// <summary>Score and rank every token by OpenRarity (<c>rarity.csv</c>, <c>rarity-model.json</c>).</summary>
    Rarity,

    /// <summary>
    /// The judge of generated images: the exact Nouns part decoder, or for a collection of one's own a trait classifier
    /// trained with tokens held out (<c>models/judge.diffnft-traits</c>).
    /// </summary>
    Judge,

    /// <summary>The base diffusion model: the bundled one, or trained on the collection (<c>models/base.diffnft</c>).</summary>
    BaseModel,

    /// <summary>The rarity reward model: the bundled one, or trained on the collection (<c>models/reward.diffnft-reward</c>).</summary>
    RewardModel,

    /// <summary>PPO fine-tuning of the base model for the composite reward (<c>models/tuned.diffnft</c>, <c>finetune.log.csv</c>).</summary>
    FineTune,

    /// <summary>N images from the base and N from the tuned model with the same seeds (<c>generated/base</c>, <c>generated/tuned</c>).</summary>
    Generate,

    /// <summary>Both image sets evaluated against the collection (<c>metrics/base.json</c>, <c>metrics/tuned.json</c>).</summary>
    Evaluate,

    /// <summary>The report (<c>report.json</c>).</summary>
    Report,
}

/// <summary>Names of the stages as they appear in files, logs and the report.</summary>
internal static class QuickstartStages
{
    /// <summary>Every stage, in order.</summary>
    public static IReadOnlyList<QuickstartStage> All { get; } = Enum.GetValues<QuickstartStage>();

    /// <summary>The stage's file and report name: collection, rarity, judge, base-model, reward-model, finetune, generate, evaluate, report.</summary>
    /// <param name="stage">The stage.</param>
    public static string Name(QuickstartStage stage) => stage switch
    {
        QuickstartStage.Collection => "collection",
        QuickstartStage.Rarity => "rarity",
        QuickstartStage.Judge => "judge",
        QuickstartStage.BaseModel => "base-model",
        QuickstartStage.RewardModel => "reward-model",
        QuickstartStage.FineTune => "finetune",
        QuickstartStage.Generate => "generate",
        QuickstartStage.Evaluate => "evaluate",
        QuickstartStage.Report => "report",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown quickstart stage."),
    };
}
