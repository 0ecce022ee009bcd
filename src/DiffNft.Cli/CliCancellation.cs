namespace DiffNft.Cli;

/// <summary>
/// Ctrl+C requests a clean stop: long commands check the token between steps, write their checkpoint and exit;
/// a second Ctrl+C kills the process.
/// </summary>
internal sealed class CliCancellation : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private int _presses;

    public CliCancellation() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _cts.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (Interlocked.Increment(ref _presses) > 1) return;
        e.Cancel = true;
        Console.Error.WriteLine("diffnft: stopping after the current step (Ctrl+C again to kill)…");
        _cts.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _cts.Dispose();
    }
}
