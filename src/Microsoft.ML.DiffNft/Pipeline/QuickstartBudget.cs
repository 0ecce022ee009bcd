namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// How <see cref="QuickstartOptions.Budget"/> is split across a from-scratch run's stages. Training the base model is
/// where more time buys the most (its decodable rate keeps rising for tens of minutes on 2 cores), so it gets half; the
/// reward model stops early on its validation Spearman anyway; the judge (a small CNN) and fine-tuning need less.
/// Generation and evaluation have no time limit — their work is N images per set — and the rest of the budget is theirs.
/// </summary>
internal static class QuickstartBudget
{
    /// <summary>Share of the budget for training the base diffusion model: 0.50.</summary>
    public const double BaseModelShare = 0.50;

    /// <summary>Share for training the rarity reward model: 0.12.</summary>
    public const double RewardModelShare = 0.12;

    /// <summary>Share for training the judge (the held-out trait classifier of a collection of one's own): 0.08.</summary>
    public const double JudgeShare = 0.08;

    /// <summary>Share for fine-tuning (its time guard; its iterations stay the budget when they finish first): 0.15.</summary>
    public const double FineTuneShare = 0.15;

    /// <summary>
    /// The options with each stage's time limit set from <see cref="QuickstartOptions.Budget"/>; unchanged without one.
    /// The base model and the judge then train until their share is spent (their step and epoch limits are lifted, and
    /// their learning-rate schedules follow the clock); the reward model keeps its step limit and early stopping.
    /// </summary>
    /// <param name="options">The options.</param>
    public static QuickstartOptions Apply(QuickstartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Budget is not { } budget) return options;
        return options with
        {
            BaseTraining = options.BaseTraining with { MaxSteps = int.MaxValue, MaxTime = budget * BaseModelShare },
            RewardTraining = options.RewardTraining with { MaxTime = budget * RewardModelShare },
            JudgeTraining = options.JudgeTraining with { Epochs = 10_000, MaxTime = budget * JudgeShare },
            FineTuneTime = budget * FineTuneShare,
        };
    }
}
