namespace Microsoft.ML.DiffNft;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its callback on the reporting thread, at once. Use it for the
/// <c>Progress</c> options of DiffNft trainers when reports must arrive in order (console output, timings):
/// <see cref="Progress{T}"/> posts each report to the thread pool, which can reorder them.
/// </summary>
/// <typeparam name="T">The report type.</typeparam>
public sealed class SynchronousProgress<T> : IProgress<T>
{
    private readonly Action<T> _report;

    /// <summary>Creates a progress sink that calls <paramref name="report"/> for every report.</summary>
    public SynchronousProgress(Action<T> report) => _report = report ?? throw new ArgumentNullException(nameof(report));

    /// <inheritdoc/>
    public void Report(T value) => _report(value);
}
