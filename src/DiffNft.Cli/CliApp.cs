using System.CommandLine;

namespace DiffNft.Cli;

/// <summary>Builds the diffnft command tree.</summary>
public static class CliApp
{
    /// <summary>Runs the command line and returns the exit code.</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("diffnft — generate, score and evaluate rare NFT collections with diffusion models (Microsoft.ML.DiffNft).");
        return root.Parse(args).Invoke();
    }
}
