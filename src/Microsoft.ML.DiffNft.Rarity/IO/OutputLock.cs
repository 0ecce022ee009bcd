using System.Globalization;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.IO;

/// <summary>
/// An exclusive lock on an output, held for a run's lifetime, so that a second diffnft run writing the same output fails
/// at once instead of both finishing with exit code 0 and the last writer winning.
/// </summary>
/// <remarks>
/// <para>The lock is a file opened with <see cref="FileShare.None"/>: on Linux and macOS .NET takes an advisory
/// <c>flock</c> on it, on Windows the share mode itself excludes other openers. The operating system releases either when
/// the process ends, however it ends, so a killed run (even <c>kill -9</c>) never leaves a stale lock.</para>
/// <para>The lock file is never deleted: deleting it on release would let a run that opened the old file and a run that
/// created a new one both hold "the" lock. It stays behind empty and hidden; deleting it when no run is active is
/// harmless. Who holds the lock (process id, command, start time) is written to <c>LOCK.holder</c> beside it, because the
/// lock file itself cannot be read by anyone else while it is held; the holder file is removed on release.</para>
/// </remarks>
internal sealed class OutputLock : IDisposable
{
    // The sharing violation as .NET reports it: errno EWOULDBLOCK (11) from flock on Unix, ERROR_SHARING_VIOLATION on Windows.
    private const int EWouldBlock = 11;
    private const int SharingViolation = unchecked((int)0x80070020);

    private readonly FileStream _stream;
    private readonly string _holderPath;
    private int _released;

    private OutputLock(FileStream stream, string holderPath)
    {
        _stream = stream;
        _holderPath = holderPath;
    }

    /// <summary>The lock file.</summary>
    public string LockPath => _stream.Name;

    /// <summary>Takes the lock at <paramref name="lockPath"/>, or fails at once when another run holds it.</summary>
    /// <param name="lockPath">The lock file (created when missing; its folder must exist).</param>
    /// <param name="output">What is locked, as the error names it, e.g. "Output folder '/x/out'".</param>
    /// <param name="command">The command taking the lock, e.g. "generate" (written to the holder file).</param>
    /// <exception cref="IOException">Another run holds the lock; the message names <paramref name="output"/> and the holder.</exception>
    public static OutputLock Acquire(string lockPath, string output, string command)
    {
        string holderPath = lockPath + ".holder";
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (IOException ex) when (ex.HResult is EWouldBlock or SharingViolation)
        {
            throw new IOException($"{output} is in use by another diffnft run ({ReadHolder(holderPath)}); " +
                                  "wait for it to finish, or write to another output.", ex);
        }
        try
        {
            AtomicFile.WriteAllText(holderPath, string.Create(CultureInfo.InvariantCulture,
                $"pid {Environment.ProcessId}, diffnft {command}, started {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z\n"));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new OutputLock(stream, holderPath);
    }

    /// <summary>
    /// True while some run holds the lock at <paramref name="lockPath"/> (its holder, when known, in
    /// <paramref name="holder"/>). Reads only: a missing lock file is not made.
    /// </summary>
    public static bool IsHeld(string lockPath, out string holder)
    {
        holder = "";
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None, bufferSize: 1);
            return false;
        }
        catch (IOException ex) when (ex.HResult is EWouldBlock or SharingViolation)
        {
            holder = ReadHolder(lockPath + ".holder");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // no lock file (no run ever held it), or one this user may not open
        }
    }

    /// <summary>Releases the lock (and removes the holder file).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        // The holder file goes first, while the lock is still held: a run that takes the lock next writes its own.
        try { File.Delete(_holderPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        _stream.Dispose();
    }

    private static string ReadHolder(string holderPath)
    {
        try
        {
            string text = File.ReadAllText(holderPath).Trim();
            if (text.Length > 0 && text.Length < 200 && !text.Contains('\n')) return text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        // The holder took the lock a moment ago and has not written its details yet.
        return "its details are not written yet";
    }
}
