using System.CommandLine;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft nouns …</c>: render single Nouns and decode traits from images.</summary>
internal static class NounsCommand
{
    public static Command Create()
    {
        var command = new Command("nouns", "Render a single Noun from its seed, or decode the traits of 32×32 Noun images.");
        return command;
    }
}
