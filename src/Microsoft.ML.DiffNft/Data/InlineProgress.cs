namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports synchronously on the calling thread; <see cref="Progress{T}"/> posts to
/// the thread pool, which reorders reports and makes timings meaningless.
/// </summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
