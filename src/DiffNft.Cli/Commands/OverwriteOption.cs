using System.CommandLine;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The <c>--overwrite</c> flag of the commands that write an output folder (docs/output-folders.md): without it a run
/// writes only into a missing or empty folder, or one the same command wrote before.
/// </summary>
internal static class OverwriteOption
{
    /// <summary>A new <c>--overwrite</c> option (each command needs its own instance).</summary>
    public static Option<bool> Create() => new("--overwrite")
    {
        Description = "Write into the --out folder even when it is not empty and no earlier run of this command wrote it: files with the " +
                      "names this command writes are replaced (docs/output-folders.md). Without it such a folder is refused.",
    };
}
