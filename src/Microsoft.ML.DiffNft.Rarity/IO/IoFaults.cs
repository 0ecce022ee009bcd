namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// A seam for tests: makes writes on the current async flow fail as a full disk or a read-only folder would. Real faults
/// need a tiny file system or a user without root's permissions, which a test run does not always have. The fault is
/// asked after a temporary (or probe) file has been created and before its bytes are written, so a test also sees that
/// the half-made file is removed.
/// </summary>
internal static class IoFaults
{
    private static readonly AsyncLocal<Func<string, Exception?>?> s_fault = new();

    /// <summary>Makes every write on this flow (and the tasks it starts) ask <paramref name="fault"/> first, until disposed.</summary>
    /// <param name="fault">Given the path about to be written; returns the exception to throw, or null to let the write go on.</param>
    public static IDisposable Inject(Func<string, Exception?> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        var previous = s_fault.Value;
        s_fault.Value = fault;
        return new Restore(previous);
    }

    /// <summary>A full disk, as .NET reports ENOSPC on Linux.</summary>
    public static IOException DiskFull(string path) => new($"No space left on device : '{path}'", 28);

    /// <summary>Throws the injected fault for <paramref name="path"/>, if there is one.</summary>
    public static void Check(string path)
    {
        if (s_fault.Value?.Invoke(path) is { } ex) throw ex;
    }

    private sealed class Restore(Func<string, Exception?>? previous) : IDisposable
    {
        public void Dispose() => s_fault.Value = previous;
    }
}
