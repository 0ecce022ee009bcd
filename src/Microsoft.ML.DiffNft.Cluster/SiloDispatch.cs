using Orleans.Runtime;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// Runs a list of work items on a cluster's silos, one item per silo at a time, each item to completion exactly once:
/// an item whose silo fails (dies, becomes unreachable, times out) goes back to the queue and runs on another silo; a
/// result that arrives for an item already done is dropped and counted. Errors of the work itself (bad input) are not
/// retried: they end the run with the silo's message.
/// </summary>
internal static class SiloDispatch
{
    /// <summary>What a run did besides its results.</summary>
    public sealed record Outcome<TResult>(TResult[] Results, IReadOnlyList<string> SiloOfItem, int Retries, int Duplicates);

    /// <summary>
    /// Runs every item; returns the results in item order.
    /// </summary>
    /// <param name="items">The work.</param>
    /// <param name="silos">The silos to use now (asked again whenever a silo is free or has failed).</param>
    /// <param name="run">Runs one item on one silo.</param>
    /// <param name="onRetry">Told of each failure that sends an item back to the queue.</param>
    /// <param name="patience">How long to wait for a usable silo when none is left before giving up.</param>
    /// <param name="cancellationToken">Stops waiting; items already running finish on their silos.</param>
    public static async Task<Outcome<TResult>> RunAll<TItem, TResult>(IReadOnlyList<TItem> items,
        Func<CancellationToken, Task<IReadOnlyList<string>>> silos, Func<string, TItem, CancellationToken, Task<TResult>> run,
        Action<string, int, Exception>? onRetry, TimeSpan patience, CancellationToken cancellationToken)
    {
        int n = items.Count;
        var results = new TResult[n];
        var siloOf = new string[n];
        var done = new bool[n];
        int remaining = n, retries = 0, duplicates = 0;
        var pending = new Queue<int>(Enumerable.Range(0, n));
        var running = new Dictionary<Task<TResult>, (string Silo, int Item)>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        var waitingSince = (DateTime?)null;
        while (remaining > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (pending.Count > 0)
            {
                var busy = running.Values.Select(r => r.Silo).ToHashSet(StringComparer.Ordinal);
                foreach (string silo in await silos(cancellationToken))
                {
                    if (pending.Count == 0) break;
                    if (failed.Contains(silo) || busy.Contains(silo)) continue;
                    int item = pending.Dequeue();
                    running[run(silo, items[item], cancellationToken)] = (silo, item);
                    busy.Add(silo);
                }
            }
            if (running.Count == 0)
            {
                // Every known silo failed during this run: the membership may not have caught up yet. Forget the failures
                // and ask again, for a while.
                waitingSince ??= DateTime.UtcNow;
                if (DateTime.UtcNow - waitingSince > patience)
                    throw new SiloUnavailableException($"No silo could take the remaining {remaining} of {n} work items for {patience.TotalSeconds:F0} s (silos that failed: {string.Join(", ", failed)}).");
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                failed.Clear();
                continue;
            }
            waitingSince = null;
            var finished = await Task.WhenAny(running.Keys);
            var (from, index) = running[finished];
            running.Remove(finished);
            try
            {
                var result = await finished;
                if (done[index])
                {
                    duplicates++;
                    continue;
                }
                results[index] = result;
                siloOf[index] = from;
                done[index] = true;
                remaining--;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken) && !cancellationToken.IsCancellationRequested)
            {
                failed.Add(from);
                retries++;
                if (!done[index]) pending.Enqueue(index);
                onRetry?.Invoke(from, index, ex);
            }
        }
        return new Outcome<TResult>(results, siloOf, retries, duplicates);
    }

    /// <summary>
    /// Failures of the cluster rather than of the work: a silo that died or cannot be reached, a call that timed out,
    /// a message the runtime rejected, or a call the runtime itself cancelled (while a dead silo's part of the grain
    /// directory moves to the survivors) — any cancellation while <paramref name="cancellationToken"/>, the caller's, is not
    /// cancelled. Anything else is the work's own error and is not retried.
    /// </summary>
    public static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        SiloUnavailableException or TimeoutException or OrleansMessageRejectionException => true,
        OrleansException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException { InnerExceptions.Count: 1 } a => IsTransient(a.InnerExceptions[0], cancellationToken),
        _ => false,
    };
}
