using System.CommandLine;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft collection …</c>: make and convert NFT collections.</summary>
internal static class CollectionCommand
{
    public static Command Create()
    {
        var command = new Command("collection", "Make NFT collections: render the built-in Nouns collection with chosen trait weights.");
        return command;
    }
}
