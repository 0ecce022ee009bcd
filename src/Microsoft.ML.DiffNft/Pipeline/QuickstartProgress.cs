namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>What a <see cref="QuickstartProgress"/> report says about its stage.</summary>
public enum QuickstartProgressKind
{
    /// <summary>The stage starts (or resumes from its checkpoint).</summary>
    Started,

    /// <summary>The stage advanced; <see cref="QuickstartProgress.Fraction"/> says how far, when known.</summary>
    Advanced,

    /// <summary>The stage finished; <see cref="QuickstartProgress.Result"/> holds its result.</summary>
    Completed,

    /// <summary>The stage was finished by an earlier run with the same settings; <see cref="QuickstartProgress.Result"/> holds that run's result.</summary>
    Skipped,
}

/// <summary>One progress report of <see cref="QuickstartPipeline"/>.</summary>
/// <param name="Stage">The stage reporting.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Fraction">How far the stage is, in [0, 1], when known.</param>
/// <param name="Message">A short human-readable line (for example the fine-tuning iteration's reward and KL).</param>
/// <param name="Result">The stage's result, for <see cref="QuickstartProgressKind.Completed"/> and <see cref="QuickstartProgressKind.Skipped"/>.</param>
public sealed record QuickstartProgress(QuickstartStage Stage, QuickstartProgressKind Kind, double? Fraction, string Message,
    QuickstartStageResult? Result = null);
