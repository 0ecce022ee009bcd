using DiffNft.Cli;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Pipeline;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Reliability.OutputTestSupport;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// Every command that writes, against every output situation a user can make: a missing, empty, read-only or full
/// folder, a file in its place or its parent's, a user's files, the command's own earlier (or interrupted) output,
/// another command's output, a damaged marker, a second run holding the lock. Each case ends in exit 0 with a correct
/// result, or exit ≠ 0 with one error line naming the path — never a stack trace, never a user's file lost or changed,
/// never a temporary file left. 5 folder commands × 15 situations + 6 file commands × 8 situations = 123 cases.
/// </summary>
public sealed class OutputFolderFuzzTests : IClassFixture<OutputFolderFuzzTests.Inputs>, IDisposable
{
    /// <summary>A tiny collection and a generated folder, made once for every case.</summary>
    public sealed class Inputs : IDisposable
    {
        public Inputs()
        {
            Collection = Path.Combine(Root, "collection");
            Assert.Equal(0, Run("collection", "nouns", "--count", "12", "--seed", "3", "--out", Collection).Code);
            Generated = Path.Combine(Root, "generated");
            Assert.Equal(0, Run("generate", "--model", BaseModel, "--count", "2", "--steps", "2", "--out", Generated).Code);
        }

        public string Root { get; } = Directory.CreateTempSubdirectory("diffnft-fuzz-inputs-").FullName;

        public string Collection { get; }

        public string Generated { get; }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    /// <summary>What the user's folder looks like before the command runs.</summary>
    public enum Situation
    {
        Missing, Empty, IsAFile, ParentIsAFile, ReadOnly, DiskFull, UsersFiles, UsersFilesWithOverwrite, OwnStaleFiles,
        OwnFolderWithAUsersFile, Interrupted, Locked, OtherCommand, OtherCommandWithOverwrite, DamagedMarker,
    }

    /// <summary>What the user's folder looks like before a single-file output is written.</summary>
    public enum FileSituation { MissingFolder, Exists, IsAFolder, ParentIsAFile, ReadOnly, DiskFull, Locked, Siblings }

    private static readonly string[] FolderCommands = ["generate", "collection nouns", "train-reward", "train-trait-classifier", "quickstart"];
    private static readonly string[] FileCommands = ["train-diffusion", "train-reward", "evaluate", "rarity", "score", "nouns render"];

    private readonly Inputs _inputs;
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-fuzz-").FullName;

    public OutputFolderFuzzTests(Inputs inputs) => _inputs = inputs;

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
            foreach (var d in Directory.EnumerateDirectories(_dir, "*", SearchOption.AllDirectories).Prepend(_dir))
                File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_dir, recursive: true);
    }

    public static TheoryData<string, Situation> FolderCases()
    {
        var data = new TheoryData<string, Situation>();
        foreach (var command in FolderCommands)
            foreach (var situation in Enum.GetValues<Situation>())
                data.Add(command, situation);
        return data;
    }

    public static TheoryData<string, FileSituation> FileCases()
    {
        var data = new TheoryData<string, FileSituation>();
        foreach (var command in FileCommands)
            foreach (var situation in Enum.GetValues<FileSituation>())
                data.Add(command, situation);
        return data;
    }

    [Theory]
    [MemberData(nameof(FolderCases))]
    public void AFolderCommandSucceedsCorrectlyOrFailsInOneLineAndNeverLosesAUsersFile(string command, Situation situation)
    {
        string output = Path.Combine(_dir, "out");
        var users = new Dictionary<string, string>(); // the user's files: path → content, checked after the run
        bool overwrite = situation is Situation.UsersFilesWithOverwrite or Situation.OtherCommandWithOverwrite;
        bool expectSuccess = situation is Situation.Missing or Situation.Empty or Situation.UsersFilesWithOverwrite or Situation.OwnStaleFiles
            or Situation.Interrupted or Situation.OtherCommandWithOverwrite
            // A user's file in the command's own folder is refused only where the command writes (images/ of generate and
            // collection); the training commands write two named files, and the quickstart's tree is its own.
            || (situation == Situation.OwnFolderWithAUsersFile && command is "train-reward" or "train-trait-classifier" or "quickstart");
        string[] own = OwnFiles(command);
        string stale = own[0] + ".stale.png";
        IDisposable? held = null, fault = null;
        switch (situation)
        {
            case Situation.Missing:
                break;
            case Situation.Empty:
                Directory.CreateDirectory(output);
                break;
            case Situation.IsAFile:
                User(users, output, "a file");
                break;
            case Situation.ParentIsAFile:
                User(users, Path.Combine(_dir, "file"), "a file");
                output = Path.Combine(_dir, "file", "out");
                break;
            case Situation.ReadOnly:
                Directory.CreateDirectory(output);
                fault = PermissionsEnforced ? ReadOnly(output) : Deny(output);
                break;
            case Situation.DiskFull:
                fault = IoFaults.Inject(p => p.StartsWith(output, StringComparison.Ordinal) ? IoFaults.DiskFull(p) : null);
                break;
            case Situation.UsersFiles:
            case Situation.UsersFilesWithOverwrite:
                User(users, Path.Combine(output, "notes.txt"), "my notes");
                User(users, Path.Combine(output, "images", "mine.png"), "my image");
                // A name the command writes: without --overwrite it must survive as it is.
                if (!overwrite) User(users, Path.Combine(output, own[^1]), "mine, not the command's");
                break;
            case Situation.OwnStaleFiles:
            case Situation.Interrupted:
                EarlierRun(output, command, own.Append(stale), situation == Situation.OwnStaleFiles);
                User(users, Path.Combine(output, "notes.txt"), "my notes beside the output");
                break;
            case Situation.OwnFolderWithAUsersFile:
                EarlierRun(output, command, own, complete: true);
                User(users, Path.Combine(output, "images", "mine.png"), "my image where the command writes");
                break;
            case Situation.Locked:
                held = OutputFolder.Open(output, command, overwrite: false, claimed: null);
                break;
            case Situation.OtherCommand:
            case Situation.OtherCommandWithOverwrite:
                // Refused, even a file where this command writes is safe; with --overwrite only the names it writes are
                // replaced, so the other command's file is put where this one does not write.
                string other = command == "generate" ? "collection nouns" : "generate";
                string othersFile = overwrite ? "other/kept.png" : "images/0.png";
                EarlierRun(output, other, [othersFile], complete: true);
                User(users, Path.Combine(output, othersFile), "the other command's file");
                break;
            case Situation.DamagedMarker:
                User(users, Path.Combine(output, OutputMarker.FileName), "{ damaged");
                break;
        }

        (int Code, string Error) result;
        try
        {
            result = RunFolderCommand(command, output, overwrite);
        }
        finally
        {
            fault?.Dispose();
            held?.Dispose();
        }

        if (expectSuccess)
        {
            Assert.True(result.Code == (command == "quickstart" ? 130 : 0), $"{command} / {situation}: exit {result.Code}\n{result.Error}");
            AssertCorrectOutput(command, output);
            // The quickstart's stages manage the files of its tree themselves.
            if (situation == Situation.OwnStaleFiles && command != "quickstart") Assert.False(File.Exists(Path.Combine(output, stale)), "the earlier run's stale file was kept");
        }
        else
        {
            Assert.True(result.Code == 1, $"{command} / {situation}: exit {result.Code}\n{result.Error}");
            AssertOneLineNaming(result.Error, output);
        }
        foreach (var (path, content) in users)
            Assert.True(File.Exists(path) && File.ReadAllText(path) == content, $"{command} / {situation}: the user's '{path}' was lost or changed");
        AssertNoTemporaryFiles(_dir);
    }

    [Theory]
    [MemberData(nameof(FileCases))]
    public void AFileCommandSucceedsCorrectlyOrFailsInOneLineAndNeverLosesAUsersFile(string command, FileSituation situation)
    {
        string folder = Path.Combine(_dir, "models");
        string output = Path.Combine(folder, command == "nouns render" ? "noun.png" : "out.bin");
        var users = new Dictionary<string, string>();
        bool expectSuccess = situation is FileSituation.MissingFolder or FileSituation.Exists or FileSituation.Siblings;
        IDisposable? held = null, fault = null;
        switch (situation)
        {
            case FileSituation.MissingFolder:
                break;
            case FileSituation.Exists:
                Directory.CreateDirectory(folder);
                File.WriteAllText(output, "an earlier output, replaced");
                break;
            case FileSituation.IsAFolder:
                User(users, Path.Combine(output, "inside.txt"), "a folder in the file's place");
                break;
            case FileSituation.ParentIsAFile:
                User(users, folder, "a file in the folder's place");
                break;
            case FileSituation.ReadOnly:
                Directory.CreateDirectory(folder);
                fault = PermissionsEnforced ? ReadOnly(folder) : Deny(folder);
                break;
            case FileSituation.DiskFull:
                fault = IoFaults.Inject(p => p.StartsWith(folder, StringComparison.Ordinal) ? IoFaults.DiskFull(p) : null);
                break;
            case FileSituation.Locked:
                held = OutputFile.Open(output, command);
                break;
            case FileSituation.Siblings:
                User(users, Path.Combine(folder, "metrics.json"), "another model's metrics");
                User(users, Path.Combine(folder, "notes.txt"), "my notes");
                break;
        }

        (int Code, string Error) result;
        try
        {
            result = RunFileCommand(command, output);
        }
        finally
        {
            fault?.Dispose();
            held?.Dispose();
        }

        if (expectSuccess)
        {
            Assert.True(result.Code == 0, $"{command} / {situation}: exit {result.Code}\n{result.Error}");
            Assert.True(new FileInfo(output).Length > 40, "the output was not written");
        }
        else
        {
            Assert.True(result.Code == 1, $"{command} / {situation}: exit {result.Code}\n{result.Error}");
            AssertOneLineNaming(result.Error, situation == FileSituation.ParentIsAFile ? folder : output);
        }
        foreach (var (path, content) in users)
            Assert.True(File.Exists(path) && File.ReadAllText(path) == content, $"{command} / {situation}: the user's '{path}' was lost or changed");
        AssertNoTemporaryFiles(_dir);
    }

    private (int Code, string Error) RunFolderCommand(string command, string output, bool overwrite)
    {
        string[] extra = overwrite ? ["--overwrite"] : [];
        switch (command)
        {
            case "generate":
                return Cli(["generate", "--model", BaseModel, "--count", "2", "--steps", "2", "--out", output, .. extra]);
            case "collection nouns":
                return Cli(["collection", "nouns", "--count", "3", "--out", output, .. extra]);
            case "train-reward":
                return Cli(["train-reward", "--collection", _inputs.Collection, "--preset", "tiny", "--steps", "1", "--batch", "4", "--threads", "1",
                    "--out", output + "/", .. extra]);
            case "train-trait-classifier":
                return Cli(["train-trait-classifier", "--collection", _inputs.Collection, "--epochs", "0.5", "--width", "4", "--batch", "4", "--threads", "1",
                    "--out", output + "/", .. extra]);
            default:
            {
                // The quickstart's folder checks come before its first stage; a cancelled run stops there (exit 130), so an
                // accepted folder costs no training.
                using var cancelled = new CancellationTokenSource();
                cancelled.Cancel();
                var error = new StringWriter();
                int code = CliErrors.Guard(error, () =>
                {
                    new QuickstartPipeline(new QuickstartOptions { OutputDirectory = output, Overwrite = overwrite, CancellationToken = cancelled.Token }).Run();
                    return 0;
                });
                return (code, error.ToString());
            }
        }
    }

    private (int Code, string Error) RunFileCommand(string command, string output) => command switch
    {
        "train-diffusion" => Cli(["train-diffusion", "--collection", _inputs.Collection, "--preset", "tiny", "--steps", "1", "--batch", "4", "--out", output]),
        "train-reward" => Cli(["train-reward", "--collection", _inputs.Collection, "--preset", "tiny", "--steps", "1", "--batch", "4", "--threads", "1", "--out", output]),
        "evaluate" => Cli(["evaluate", "--generated", _inputs.Generated, "--reference", _inputs.Collection, "--n", "2", "--no-cache", "--out", output]),
        "rarity" => Cli(["rarity", "--input", _inputs.Collection, "--out", output]),
        "score" => Cli(["score", "--reward", RewardModel, "--images", _inputs.Generated, "--threads", "1", "--out", output]),
        _ => Cli(["nouns", "render", "--seed", "1,28,120,95,15", "--out", output]),
    };

    /// <summary>The files a command writes in its folder (its last is one a user's file may collide with).</summary>
    private static string[] OwnFiles(string command) => command switch
    {
        "generate" => ["images/0.png", "images/1.png", "grid.png"],
        "collection nouns" => ["images/0.png", "metadata/0.json", "_metadata.json"],
        "train-reward" => ["model.diffnft-reward", "metrics.json"],
        "train-trait-classifier" => ["model.diffnft-traits", "metrics.json"],
        _ => ["models/base.diffnft", "report.json"],
    };

    private static void AssertCorrectOutput(string command, string output)
    {
        var marker = OutputMarker.Read(output);
        Assert.NotNull(marker);
        switch (command)
        {
            case "generate":
                Assert.True(marker.IsComplete);
                Assert.Equal([Path.Combine(output, "images", "0.png"), Path.Combine(output, "images", "1.png")],
                    OutputMarker.WrittenFiles(output)!.Where(f => f.EndsWith(".png", StringComparison.Ordinal) && !f.EndsWith("grid.png", StringComparison.Ordinal)));
                break;
            case "collection nouns":
                Assert.True(marker.IsComplete);
                Assert.Equal(3, NftCollectionLoader.Load(output).Count);
                break;
            case "train-reward":
            case "train-trait-classifier":
                Assert.True(marker.IsComplete);
                Assert.Equal(2, marker.Files!.Count);
                Assert.All(marker.Files, f => Assert.True(new FileInfo(Path.Combine(output, f)).Length > 40, f));
                break;
            default:
                Assert.Equal("quickstart", marker.Command); // accepted; the cancelled run stopped before its first stage
                break;
        }
    }

    // Writes a folder as an earlier run of the command left it: its files, and a marker saying whether it finished.
    private static void EarlierRun(string output, string command, IEnumerable<string> files, bool complete)
    {
        var list = files.ToList();
        foreach (var f in list)
        {
            string path = Path.Combine(output, f);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "written by an earlier " + command);
        }
        bool ownsTree = command == "quickstart";
        new OutputMarker(command, complete ? OutputMarker.Complete : OutputMarker.Running, 1, DateTime.UtcNow.AddHours(-1),
            complete ? DateTime.UtcNow : null, ownsTree ? null : list).Write(output);
    }

    private static void User(Dictionary<string, string> users, string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        users[path] = content;
    }

    // Root writes into a chmod 555 folder anyway: the fault seam refuses every write there as the OS would.
    private static IDisposable Deny(string folder) =>
        IoFaults.Inject(p => p.StartsWith(folder, StringComparison.Ordinal) ? new UnauthorizedAccessException($"Access to the path '{p}' is denied.") : null);

    private static (int Code, string Error) Cli(string[] args)
    {
        var (code, _, error) = Run(args);
        return (code, error);
    }
}
