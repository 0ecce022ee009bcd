namespace DiffNft.Cli;

/// <summary>
/// Turns the exceptions that mean "bad input" or "the output cannot be written" into one clear line on stderr and exit
/// code 1, instead of a stack trace. Anything else is a bug and keeps its trace.
/// </summary>
/// <remarks>
/// Every <see cref="IOException"/> is one line: the output probes (a file where a folder should be, a read-only folder, a
/// full disk), the output locks and the atomic writes all throw it with the path in the message, and a .NET I/O error
/// (its message names the path too) is the machine's, not a bug of ours.
/// </remarks>
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
                                      or NotSupportedException or UnauthorizedAccessException or IOException)
        {
            error.WriteLine($"diffnft: error: {CliMessages.Translate(OneLine(ex))}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("diffnft: cancelled.");
            return 130;
        }
    }

    /// <summary>
    /// The message on one line. .NET's argument exceptions append " (Parameter 'X')" and, for out-of-range values, a second
    /// line "Actual value was V."; both become a "X = V:" prefix, so the line still names the setting and the value.
    /// </summary>
    internal static string OneLine(Exception ex)
    {
        string message = ex.Message;
        if (ex is ArgumentException { ParamName: { } name } argument)
        {
            string suffix = $" (Parameter '{name}')";
            int cut = message.IndexOf(suffix, StringComparison.Ordinal);
            if (cut >= 0) message = message[..cut];
            string value = argument is ArgumentOutOfRangeException { ActualValue: { } actual }
                ? " = " + Convert.ToString(actual, System.Globalization.CultureInfo.InvariantCulture)
                : "";
            message = $"{name}{value}: {message}";
        }
        return string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
