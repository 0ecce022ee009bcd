namespace DiffNft.Cli;

/// <summary>
/// Translates the library's messages for command-line users. The library names the options and properties a C# caller
/// sets (<c>NftGenerationEvaluatorOptions.SampleSize</c>); on the command line the same setting is a flag, so each known
/// option name is followed by its flag.
/// </summary>
public static class CliMessages
{
    // Option or property name as the library writes it → the flag that sets it.
    private static readonly (string Option, string Flag)[] s_flags =
    [
        ("NftGenerationEvaluatorOptions.SampleSize", "--n"),
        ("NftGenerationEvaluatorOptions.TraitDecoder", "--trait-classifier"),
        ("QuickstartOptions.FromScratch", "--from-scratch"),
        ("QuickstartOptions.Overwrite", "--overwrite"),
    ];

    /// <summary>Returns <paramref name="message"/> with the flag after every option name it mentions.</summary>
    public static string Translate(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (option, flag) in s_flags)
            message = message.Replace(option, $"{option} ({flag})", StringComparison.Ordinal);
        return message;
    }
}
