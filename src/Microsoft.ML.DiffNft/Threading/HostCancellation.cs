using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Threading;

/// <summary>
/// Observes ML.NET's own cancellation, <c>MLContext.CancelExecution()</c>, from outside ML.NET. Every host of a canceled
/// context reports <c>IsCanceled</c> through ML.NET's <c>ICancelable</c> interface, which ML.NET keeps internal (its
/// <c>CheckAlive</c> helper is internal too), so this reads the property by reflection, as
/// <c>HostEnvironmentAccess</c> reads the context's environment.
/// </summary>
/// <remarks>
/// If a future ML.NET drops the interface, <see cref="IsCanceled"/> is always false: the options'
/// <see cref="CancellationToken"/>s still work, and failing every pipeline over a missing cancellation hook would be
/// worse than not honouring it.
/// </remarks>
internal static class HostCancellation
{
    // How often a linked token looks at the host: often enough to stop within a training step, rarely enough to cost nothing.
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);

    private static readonly PropertyInfo? s_isCanceled =
        typeof(IHost).Assembly.GetType("Microsoft.ML.Runtime.ICancelable")?.GetProperty("IsCanceled");

    /// <summary>True when <c>CancelExecution()</c> was called on the context <paramref name="env"/> belongs to.</summary>
    public static bool IsCanceled(IHostEnvironment env) =>
        s_isCanceled is not null && s_isCanceled.DeclaringType!.IsInstanceOfType(env) && (bool)s_isCanceled.GetValue(env)!;

    /// <summary>Throws ML.NET's <see cref="OperationCanceledException"/> when the context was canceled.</summary>
    public static void ThrowIfCanceled(IHostEnvironment env)
    {
        if (IsCanceled(env)) throw new OperationCanceledException("Operation was cancelled.");
    }

    /// <summary>
    /// A token that is canceled when <paramref name="token"/> is or when the context of <paramref name="env"/> is
    /// (polled every 100 ms). Dispose it when the work ends.
    /// </summary>
    public static Link Observe(IHostEnvironment env, CancellationToken token) => new(env, token);

    /// <summary>A linked token and the timer that watches the host.</summary>
    internal sealed class Link : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private readonly Timer _timer;

        public Link(IHostEnvironment env, CancellationToken token)
        {
            ArgumentNullException.ThrowIfNull(env);
            ThrowIfCanceled(env);
            _source = CancellationTokenSource.CreateLinkedTokenSource(token);
            var source = _source;
            _timer = new Timer(_ =>
            {
                if (IsCanceled(env))
                {
                    try
                    {
                        source.Cancel();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The work ended while the timer fired.
                    }
                }
            }, null, s_pollInterval, s_pollInterval);
        }

        /// <summary>Canceled by the caller's token or by <c>MLContext.CancelExecution()</c>.</summary>
        public CancellationToken Token => _source.Token;

        public void Dispose()
        {
            _timer.Dispose();
            _source.Dispose();
        }
    }
}
