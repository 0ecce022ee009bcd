namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// The last lines a job reported, numbered from its start, for clients that poll: each client prints the lines numbered
/// after the last one it printed. Thread-safe (the job's thread adds, the grain reads).
/// </summary>
internal sealed class ProgressLines
{
    private const int Kept = 64;
    private readonly Queue<string> _lines = new();
    private long _dropped;

    public void Add(string line)
    {
        lock (_lines)
        {
            _lines.Enqueue(line);
            if (_lines.Count > Kept)
            {
                _lines.Dequeue();
                _dropped++;
            }
        }
    }

    /// <summary>The number of the first line kept, and the lines kept.</summary>
    public (long First, string[] Lines) Recent()
    {
        lock (_lines) return (_dropped, _lines.ToArray());
    }

    /// <summary>
    /// Reports the lines of a status (<paramref name="lines"/>, numbered from <paramref name="first"/>) numbered from
    /// <paramref name="printed"/> on, each through <paramref name="report"/>; returns the number to print from next time.
    /// </summary>
    public static long ReportNew(string[] lines, long first, long printed, Action<string> report)
    {
        for (int i = 0; i < lines.Length; i++)
            if (first + i >= printed)
            {
                report(lines[i]);
                printed = first + i + 1;
            }
        return printed;
    }

    /// <summary>The first line of a message (Orleans' messages carry stack traces on later lines).</summary>
    public static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
