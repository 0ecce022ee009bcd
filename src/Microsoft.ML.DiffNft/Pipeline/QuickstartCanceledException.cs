namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// Thrown when <see cref="QuickstartOptions.CancellationToken"/> stops a run. Finished stages stay finished, and a stage
/// with a checkpoint (base-model training, fine-tuning) has saved it, so rerunning with the same options resumes.
/// </summary>
internal sealed class QuickstartCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception for a run stopped in <paramref name="stage"/>.</summary>
    /// <param name="stage">The stage that was running.</param>
    /// <param name="resumable">Whether the stage saved a checkpoint that a rerun continues from.</param>
    /// <param name="inner">The cancellation that stopped it.</param>
    public QuickstartCanceledException(QuickstartStage stage, bool resumable, OperationCanceledException inner)
        : base(Describe(stage, resumable), inner, inner.CancellationToken)
    {
        Stage = stage;
        Resumable = resumable;
    }

    /// <summary>The stage that was running.</summary>
    public QuickstartStage Stage { get; }

    /// <summary>Whether the stage saved a checkpoint that a rerun continues from (otherwise a rerun restarts that stage).</summary>
    public bool Resumable { get; }

    private static string Describe(QuickstartStage stage, bool resumable) =>
        $"Stopped during stage '{QuickstartStages.Name(stage)}'" +
        (resumable ? "; its checkpoint is saved and a rerun with the same options resumes it." : "; a rerun with the same options skips the finished stages and restarts this one.");
}
