namespace DiffNft.Cli;

/// <summary>
/// Turns the exceptions that mean "bad input" into one clear line on stderr and exit code 1, instead of a stack trace.
/// Anything else is a bug and keeps its trace.
/// </summary>
public static class CliErrors
{
    /// <summary>Runs an action, mapping input errors to exit code 1.</summary>
    public static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException
                                      or ArgumentException or FormatException or InvalidOperationException
                                      or NotSupportedException or UnauthorizedAccessException)
        {
            error.WriteLine($"diffnft: error: {CliMessages.Translate(ex.Message)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("diffnft: cancelled.");
            return 130;
        }
    }
}
