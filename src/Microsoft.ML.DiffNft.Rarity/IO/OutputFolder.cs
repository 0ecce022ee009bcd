namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// An output folder owned by one run: probed before the work (a file in its place, a read-only folder or a full disk is
/// one error naming it), locked for the run's lifetime (a second writer fails at once), and marked with the command
/// that owns it and the files it wrote (<see cref="OutputMarker"/>), so that a rerun removes its own stale files and never
/// deletes or overwrites a file no diffnft run wrote there.
/// </summary>
/// <remarks>
/// <para>The policy (docs/output-folders.md): a run writes into a missing or empty folder, or one its own command owns.
/// A non-empty folder without a marker, a folder owned by another command, or an owned folder holding files its command
/// did not write where this run writes are refused unless the caller passes <c>overwrite</c>; then files with the names
/// the run writes are replaced and nothing else is deleted.</para>
/// <para>Use: <see cref="Open"/> before the expensive work, <see cref="Begin"/> before the first file is written,
/// <see cref="Complete"/> after the last, and dispose to release the lock. A run that stops between Begin and Complete
/// leaves the marker "running", listing the earlier run's files and the ones this run meant to write, so the next run of
/// the same command still owns them, and readers (<see cref="OutputMarker.WrittenFiles"/>) refuse the half-written folder.</para>
/// </remarks>
internal sealed class OutputFolder : IDisposable
{
    /// <summary>The lock file in every output folder.</summary>
    public const string LockFileName = ".diffnft.lock";

    private readonly OutputLock _lock;
    private readonly string _command;
    private readonly IReadOnlyList<string>? _claimed;
    private readonly HashSet<string> _previous;
    private DateTime _started;

    private OutputFolder(string root, string command, IReadOnlyList<string>? claimed, OutputLock outputLock, HashSet<string> previous)
    {
        Root = root;
        _command = command;
        _claimed = claimed;
        _lock = outputLock;
        _previous = previous;
    }

    /// <summary>The folder's full path.</summary>
    public string Root { get; }

    /// <summary>The files an earlier run of the same command recorded here (relative, '/' separators).</summary>
    public IReadOnlyCollection<string> PreviousFiles => _previous;

    /// <summary>
    /// Probes, locks and checks the folder; nothing in it is changed yet (beyond the lock file).
    /// </summary>
    /// <param name="directory">The output folder (created when missing).</param>
    /// <param name="command">The command writing it, e.g. "generate"; a folder another command owns is refused.</param>
    /// <param name="overwrite">Write into a folder that is not empty, or another command's, anyway.</param>
    /// <param name="claimed">
    /// Where the command writes, relative to the folder: file names, and folder names ending in '/' (every file under
    /// them). A file there that no earlier run of this command recorded makes the run refuse (without
    /// <paramref name="overwrite"/>). Null: the command owns the whole folder and records no file list (a tree it
    /// manages itself, such as the quickstart's).
    /// </param>
    /// <param name="overwriteHint">How the caller overrides a refusal, e.g. "pass --overwrite".</param>
    /// <param name="adopt">
    /// Recognises a folder this command wrote before markers existed (e.g. the quickstart's <c>.stages/</c>): such a
    /// folder counts as owned. Only for commands that own their whole folder.
    /// </param>
    /// <exception cref="IOException">The folder cannot be made or written, another run holds it, or it is refused (the message says why and how to proceed).</exception>
    public static OutputFolder Open(string directory, string command, bool overwrite, IReadOnlyList<string>? claimed,
        string overwriteHint = "pass --overwrite", Func<string, bool>? adopt = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        string root = OutputProbe.WritableFolder(directory);
        // Checked before the lock too, so that a refused folder of the user's is left without a lock file in it; checked
        // again under the lock, which decides.
        Check(root, command, overwrite, claimed, overwriteHint, adopt);
        var outputLock = OutputLock.Acquire(Path.Combine(root, LockFileName), $"Output folder '{root}'", command);
        try
        {
            var previous = Check(root, command, overwrite, claimed, overwriteHint, adopt);
            return new OutputFolder(root, command, claimed, outputLock, previous);
        }
        catch
        {
            outputLock.Dispose();
            throw;
        }
    }

    /// <summary>Records that a run starts: the marker says "running" and lists <paramref name="planned"/> with the earlier run's files.</summary>
    /// <param name="planned">The files this run is about to write (relative); ignored when the command owns the whole folder.</param>
    public void Begin(IEnumerable<string>? planned = null)
    {
        _started = DateTime.UtcNow;
        var files = _claimed is null ? null : _previous.Union(Normalise(planned ?? [])).Order(StringComparer.Ordinal).ToList();
        new OutputMarker(_command, OutputMarker.Running, Environment.ProcessId, _started, null, files).Write(Root);
    }

    /// <summary>
    /// Records that the run finished having written <paramref name="written"/>: the earlier run's files that this run did
    /// not write again are deleted (they are stale), and the marker lists exactly <paramref name="written"/>.
    /// </summary>
    public void Complete(IEnumerable<string>? written = null)
    {
        List<string>? files = null;
        if (_claimed is not null)
        {
            files = Normalise(written ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var keep = files.ToHashSet(StringComparer.Ordinal);
            foreach (var stale in _previous.Where(f => !keep.Contains(f)))
            {
                string full = Path.Combine(Root, stale);
                if (File.Exists(full)) File.Delete(full);
            }
            foreach (var leftover in ClaimedFiles(Root, _claimed).Where(f => IsLeftoverTemp(f, _previous) || IsLeftoverTemp(f, keep)).ToList())
                File.Delete(Path.Combine(Root, leftover));
        }
        new OutputMarker(_command, OutputMarker.Complete, Environment.ProcessId, _started, DateTime.UtcNow, files).Write(Root);
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();

    /// <summary>The paths of <paramref name="files"/> relative to the folder, with '/' separators.</summary>
    public IEnumerable<string> Relative(IEnumerable<string> files) =>
        files.Select(f => Path.GetRelativePath(Root, Path.GetFullPath(f, Root)).Replace('\\', '/'));

    // Returns the files an earlier run of this command recorded (to be removed if this run does not write them again).
    private static HashSet<string> Check(string root, string command, bool overwrite, IReadOnlyList<string>? claimed,
        string overwriteHint, Func<string, bool>? adopt)
    {
        OutputMarker? marker;
        try
        {
            marker = OutputMarker.Read(root);
        }
        catch (InvalidDataException) when (overwrite)
        {
            marker = null; // a damaged marker: the folder counts as nobody's, which --overwrite accepts
        }
        catch (InvalidDataException ex)
        {
            throw new IOException($"{ex.Message.TrimEnd('.')}; or {overwriteHint}.", ex);
        }
        var previous = new HashSet<string>(StringComparer.Ordinal);
        if (marker is null)
        {
            var entries = ForeignEntries(root);
            if (entries.Count == 0 || overwrite || (claimed is null && adopt?.Invoke(root) == true)) return previous;
            throw new IOException(
                $"Output folder '{root}' is not empty ({Describe(entries)}) and no diffnft run wrote it; " +
                $"'diffnft {command}' writes only into an empty or new folder, or one it wrote before. " +
                $"Choose another folder, or {overwriteHint} to write into it anyway (files with the names it writes are replaced).");
        }
        if (marker.Command != command)
        {
            if (overwrite) return previous; // another command's files are not this run's to delete
            throw new IOException(
                $"Output folder '{root}' holds the output of 'diffnft {marker.Command}', not of 'diffnft {command}'; " +
                $"choose another folder, or {overwriteHint} to write into it anyway.");
        }
        if (claimed is null || marker.Files is null) return previous;
        previous.UnionWith(marker.Files);
        if (overwrite) return previous;
        var foreign = ClaimedFiles(root, claimed).Where(f => !previous.Contains(f) && !IsLeftoverTemp(f, previous)).ToList();
        if (foreign.Count > 0)
            throw new IOException(
                $"Output folder '{root}' holds {foreign.Count} file(s) where 'diffnft {command}' writes that its earlier run did not write ({Describe(foreign)}); " +
                $"this run could overwrite them or mix them into its output. Move them away, choose another folder, or {overwriteHint}.");
        return previous;
    }

    // Every entry of the folder except diffnft's own bookkeeping: lock files (this folder's, made just now by this run,
    // and those of single output files written here) and stray probe files. They hold nothing of the user's.
    private static List<string> ForeignEntries(string root) =>
        Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Cast<string>()
            .Where(n => !IsLockOrProbe(n))
            .Order(StringComparer.Ordinal).ToList();

    private static bool IsLockOrProbe(string name) =>
        name.StartsWith(OutputProbe.ProbePrefix, StringComparison.Ordinal)
        || (name.StartsWith('.') && (name.EndsWith(".diffnft.lock", StringComparison.Ordinal) || name.EndsWith(".diffnft.lock.holder", StringComparison.Ordinal)));

    // The files present where the command writes, relative with '/' separators.
    private static IEnumerable<string> ClaimedFiles(string root, IReadOnlyList<string> claimed)
    {
        foreach (var claim in claimed)
        {
            string full = Path.Combine(root, claim.TrimEnd('/'));
            if (claim.EndsWith('/') || claim.Length == 0)
            {
                if (!Directory.Exists(full)) continue;
                foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories))
                {
                    string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                    if (claim.Length == 0 && IsBookkeeping(relative)) continue;
                    yield return relative;
                }
            }
            else if (File.Exists(full))
            {
                yield return claim;
            }
        }
    }

    // A temporary file AtomicFile made for a file this command records ("images/3.png.0a1b2c3d.tmp"), left by a run that
    // was killed while writing it: the command's own, deleted when the run completes.
    private static bool IsLeftoverTemp(string relative, HashSet<string> recorded)
    {
        if (!relative.EndsWith(".tmp", StringComparison.Ordinal) || relative.Length < 14) return false;
        string stem = relative[..^13];
        string tag = relative[^13..^4];
        return tag[0] == '.' && tag[1..].All(char.IsAsciiHexDigitLower) && recorded.Contains(stem);
    }

    private static bool IsBookkeeping(string relative) => relative == OutputMarker.FileName || (!relative.Contains('/') && IsLockOrProbe(relative));

    private static IEnumerable<string> Normalise(IEnumerable<string> files) => files.Select(f =>
    {
        string relative = f.Replace('\\', '/');
        if (!OutputMarker.IsInside(relative)) throw new ArgumentException($"'{f}' is not a path inside the output folder.", nameof(files));
        return relative;
    });

    private static string Describe(IReadOnlyList<string> names)
    {
        string shown = string.Join(", ", names.Take(3).Select(n => $"'{n}'"));
        return names.Count <= 3 ? shown : $"{shown} and {names.Count - 3} more";
    }
}
