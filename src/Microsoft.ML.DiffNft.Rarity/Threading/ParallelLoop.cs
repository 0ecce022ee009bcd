using System.Runtime.ExceptionServices;

namespace Microsoft.ML.DiffNft.Threading;

/// <summary>
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> that rethrows a worker's exception as itself
/// (with its original stack) instead of wrapping it in an <see cref="AggregateException"/>, so that callers see the
/// same clear <see cref="InvalidDataException"/> or <see cref="ArgumentException"/> as from sequential code.
/// </summary>
internal static class ParallelLoop
{
    /// <summary>Runs <paramref name="body"/> for 0 … <paramref name="count"/>−1 on the thread pool.</summary>
    /// <param name="count">Number of iterations.</param>
    /// <param name="body">The work of one iteration; iterations must be independent.</param>
    /// <param name="cancellationToken">Stops starting new iterations; the loop then throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="maxDegreeOfParallelism">The most iterations at once; −1 lets the thread pool decide.</param>
    public static void For(int count, Action<int> body, CancellationToken cancellationToken = default, int maxDegreeOfParallelism = -1)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = maxDegreeOfParallelism }, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw; // unreachable
        }
    }
}
