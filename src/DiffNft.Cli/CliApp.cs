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
        // Our actions report expected failures themselves (CliErrors); let unexpected ones surface with a trace.
        return Build().Parse(args).Invoke(config);
    }
}
