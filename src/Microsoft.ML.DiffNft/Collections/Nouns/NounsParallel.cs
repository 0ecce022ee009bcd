using System.Runtime.ExceptionServices;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> that rethrows a worker's exception as itself
/// (with its original stack) instead of wrapping it in an <see cref="AggregateException"/>, so that callers see the
/// same clear <see cref="InvalidDataException"/> or <see cref="ArgumentException"/> as from sequential code.
/// </summary>
internal static class NounsParallel
{
    public static void For(int count, Action<int> body, CancellationToken cancellationToken = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw; // unreachable
        }
    }
}
