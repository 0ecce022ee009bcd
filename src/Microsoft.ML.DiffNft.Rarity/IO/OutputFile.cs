namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// A single output file (a model, a metrics JSON, a CSV) as a run writes it: probed before the work (a folder in its
/// place, a read-only folder or a full disk is one error naming it) and locked for the run's lifetime, so that a second
/// run writing the same file fails at once. The file named is replaced when the run finishes; files derived from its name
/// (<c>OUT.ckpt</c>, <c>OUT.log.csv</c>, <c>OUT.metrics.json</c>) belong to it; nothing else in its folder is touched.
/// </summary>
/// <remarks>The lock file is <c>.NAME.diffnft.lock</c> beside the output (hidden, empty, left in place: see <see cref="OutputLock"/>).</remarks>
internal static class OutputFile
{
    /// <summary>Probes and locks <paramref name="path"/>; dispose the result when the run has written it.</summary>
    /// <param name="path">The output file.</param>
    /// <param name="command">The command writing it, e.g. "train-diffusion".</param>
    /// <exception cref="IOException">The file cannot be written there, or another run holds it.</exception>
    public static IDisposable Open(string path, string command)
    {
        string full = OutputProbe.WritableFile(path);
        string lockPath = Path.Combine(Path.GetDirectoryName(full)!, LockFileName(full));
        return OutputLock.Acquire(lockPath, $"Output file '{full}'", command);
    }

    /// <summary>The lock file's name for an output file.</summary>
    public static string LockFileName(string path) => "." + Path.GetFileName(path) + ".diffnft.lock";
}
