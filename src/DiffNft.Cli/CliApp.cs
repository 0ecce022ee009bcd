using System.CommandLine;
using DiffNft.Cli.Commands;

namespace DiffNft.Cli;

/// <summary>Builds the diffnft command tree and runs it.</summary>
public static class CliApp
{
    /// <summary>Builds the root command with every sub-command.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "diffnft — generate, score and evaluate rare NFT collections with diffusion models (Microsoft.ML.DiffNft).");
        // One factory per command group; each lives in its own file under Commands/.
        root.Subcommands.Add(CollectionCommand.Create());
        root.Subcommands.Add(NounsCommand.Create());
        root.Subcommands.Add(RarityCommand.Create());
        root.Subcommands.Add(TrainDiffusionCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(TrainRewardCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(FineTuneCommand.Create());
        root.Subcommands.Add(TrainTraitClassifierCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(SiloCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        return root;
    }

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var config = new InvocationConfiguration();
        if (output is not null) config.Output = output;
        if (error is not null) config.Error = error;
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line naming the option and the value, as for every other input error — not the parser's .NET type
            // names followed by the whole help text.
            var error1 = config.Error;
            string more = parse.Errors.Count > 1 ? $" ({parse.Errors.Count - 1} more error{(parse.Errors.Count > 2 ? "s" : "")}; --help lists the options)" : " (--help lists the options)";
            error1.WriteLine($"diffnft: error: {ParseErrorText(parse.Errors[0].Message)}{more}");
            return 1;
        }
        // Our actions report expected failures themselves (CliErrors); let unexpected ones surface with a trace.
        return parse.Invoke(config);
    }

    /// <summary>The parser's message with its .NET type names said in words ("Cannot parse argument 'x' for option '--n' as expected type 'System.Int32'").</summary>
    internal static string ParseErrorText(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$");
        if (!m.Success) return message.ReplaceLineEndings(" ");
        string type = m.Groups["type"].Value;
        string expected = type switch
        {
            "System.Int32" => "a whole number from -2147483648 to 2147483647",
            "System.Int64" => "a whole number",
            "System.Double" or "System.Single" => "a number",
            "System.Boolean" => "true or false",
            _ when type.StartsWith("System.Nullable`1[System.Int32", StringComparison.Ordinal) => "a whole number from -2147483648 to 2147483647",
            _ when type.StartsWith("System.Nullable`1[System.Double", StringComparison.Ordinal) => "a number",
            _ => "one of the values --help lists",
        };
        return $"{m.Groups["option"].Value} = '{m.Groups["value"].Value}': expected {expected}.";
    }
}
