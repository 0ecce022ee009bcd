using Microsoft.ML.DiffNft.IO;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The output-folder policy itself (<see cref="OutputFolder"/>): what a run may write into, what a rerun removes, what it
/// never touches, and the lock that makes a second writer fail at once.
/// </summary>
public sealed class OutputFolderTests : IDisposable
{
    private static readonly string[] ImagesClaim = ["images/", "grid.png"];
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-outfolder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AMissingFolderIsMadeAndMarkedWithTheFilesTheRunWrote()
    {
        string root = Path.Combine(_dir, "a", "b");
        using (var folder = OutputFolder.Open(root, "generate", overwrite: false, ImagesClaim))
        {
            folder.Begin(["images/0.png", "grid.png"]);
            Assert.False(OutputMarker.Read(root)!.IsComplete);
            Write(root, "images/0.png", "grid.png");
            folder.Complete(["images/0.png", "grid.png"]);
        }
        var marker = OutputMarker.Read(root)!;
        Assert.Equal("generate", marker.Command);
        Assert.True(marker.IsComplete);
        Assert.Equal(["grid.png", "images/0.png"], marker.Files);
    }

    [Fact]
    public void ARerunRemovesTheEarlierRunsFilesItDoesNotWriteAgainAndNothingElse()
    {
        Run("generate", ImagesClaim, "images/0.png", "images/1.png", "images/2.png", "grid.png");
        Write(_dir, "notes.txt"); // the user's, outside where generate writes
        Run("generate", ImagesClaim, "images/0.png", "grid.png");
        Assert.True(File.Exists(Path.Combine(_dir, "images", "0.png")));
        Assert.False(File.Exists(Path.Combine(_dir, "images", "1.png")));
        Assert.False(File.Exists(Path.Combine(_dir, "images", "2.png")));
        Assert.True(File.Exists(Path.Combine(_dir, "notes.txt")));
    }

    [Fact]
    public void ANonEmptyFolderNoRunWroteIsRefusedUnlessOverwriteIsGivenAndThenNothingElseIsTouched()
    {
        Write(_dir, "images/7.png", "mine.txt");
        var ex = Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
        Assert.Contains(_dir, ex.Message);
        Assert.Contains("--overwrite", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        // A refused folder is left as it was: no lock file, no marker.
        Assert.Equal(["images", "mine.txt"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName).Order());

        Run("generate", ImagesClaim, overwrite: true, "images/0.png", "grid.png");
        Assert.Equal("images/7.png", File.ReadAllText(Path.Combine(_dir, "images", "7.png")));
        Assert.Equal("mine.txt", File.ReadAllText(Path.Combine(_dir, "mine.txt")));
        Assert.Equal(["grid.png", "images/0.png"], OutputMarker.Read(_dir)!.Files);
    }

    [Fact]
    public void AFolderOfAnotherCommandIsRefusedAndOverwriteDeletesNoneOfItsFiles()
    {
        Run("collection nouns", ["images/", "metadata/"], "images/0.png", "metadata/0.json");
        var ex = Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
        Assert.Contains("'diffnft collection nouns'", ex.Message);
        Run("generate", ImagesClaim, overwrite: true, "images/1.png");
        Assert.True(File.Exists(Path.Combine(_dir, "metadata", "0.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "images", "0.png")));
    }

    [Fact]
    public void AUsersFileWhereTheCommandWritesIsRefusedEvenInItsOwnFolder()
    {
        Run("generate", ImagesClaim, "images/0.png", "grid.png");
        Write(_dir, "images/extra.png");
        var ex = Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
        Assert.Contains("images/extra.png", ex.Message);
        Assert.True(File.Exists(Path.Combine(_dir, "images", "extra.png")));
    }

    [Fact]
    public void ASecondWriterFailsAtOnceNamingTheHolderAndTheFolderIsFreeAfterwards()
    {
        using (var first = OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim))
        {
            var ex = Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
            Assert.Contains($"Output folder '{_dir}' is in use by another diffnft run", ex.Message);
            Assert.Contains($"pid {Environment.ProcessId}, diffnft generate, started ", ex.Message);
            var file = Path.Combine(_dir, "other.json");
            using var fileLock = OutputFile.Open(file, "evaluate");
            Assert.Contains($"Output file '{file}' is in use", Assert.Throws<IOException>(() => OutputFile.Open(file, "evaluate")).Message);
        }
        using var again = OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim);
    }

    [Fact]
    public void ARunThatStopsEarlyLeavesTheFolderItsCommandsAndReadersRefuseItUntilARerunCompletes()
    {
        Run("generate", ImagesClaim, "images/0.png", "images/1.png", "grid.png");
        using (var stopped = OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim))
        {
            stopped.Begin(["images/0.png", "images/1.png", "images/2.png", "images/3.png", "grid.png"]);
            Write(_dir, "images/2.png");
            // Killed while writing image 3: AtomicFile's temporary file is left.
            Write(_dir, "images/3.png.0a1b2c3d.tmp");
        }
        var ex = Assert.Throws<InvalidDataException>(() => OutputMarker.WrittenFiles(_dir));
        Assert.Contains("stopped before it finished", ex.Message);
        Run("generate", ImagesClaim, "images/0.png", "grid.png");
        Assert.Equal(["0.png"], Directory.EnumerateFiles(Path.Combine(_dir, "images")).Select(Path.GetFileName));
        Assert.Equal([Path.Combine(_dir, "grid.png"), Path.Combine(_dir, "images", "0.png")], OutputMarker.WrittenFiles(_dir));
    }

    [Fact]
    public void AFolderAQuickstartWroteBeforeMarkersExistedIsAdopted()
    {
        Write(_dir, ".stages/collection.json", "models/base.diffnft");
        using var folder = OutputFolder.Open(_dir, "quickstart", overwrite: false, claimed: null,
            adopt: root => Directory.Exists(Path.Combine(root, ".stages")));
        folder.Begin();
        folder.Complete();
        Assert.Null(OutputMarker.Read(_dir)!.Files);
        Assert.True(File.Exists(Path.Combine(_dir, "models", "base.diffnft")));
    }

    [Fact]
    public void ADamagedMarkerIsRefusedInOneLineAndOverwriteReplacesIt()
    {
        File.WriteAllText(Path.Combine(_dir, OutputMarker.FileName), "{ not json");
        var ex = Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
        Assert.Contains(OutputMarker.FileName, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Run("generate", ImagesClaim, overwrite: true, "grid.png");
        Assert.Equal("generate", OutputMarker.Read(_dir)!.Command);
    }

    [Fact]
    public void AMarkerListingAPathOutsideTheFolderIsNotBelieved()
    {
        Run("generate", ImagesClaim, "grid.png");
        File.WriteAllText(Path.Combine(_dir, OutputMarker.FileName),
            """{ "command": "generate", "state": "complete", "pid": 1, "started": "2025-01-01T00:00:00Z", "finished": null, "files": ["../../etc/passwd"] }""");
        Assert.Throws<InvalidDataException>(() => OutputMarker.Read(_dir));
        Assert.Throws<IOException>(() => OutputFolder.Open(_dir, "generate", overwrite: false, ImagesClaim));
    }

    private void Run(string command, string[] claimed, params string[] files) => Run(command, claimed, false, files);

    private void Run(string command, string[] claimed, bool overwrite, params string[] files)
    {
        using var folder = OutputFolder.Open(_dir, command, overwrite, claimed);
        folder.Begin(files);
        Write(_dir, files);
        folder.Complete(files);
    }

    private static void Write(string root, params string[] files)
    {
        foreach (var f in files)
        {
            string path = Path.Combine(root, f);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, f);
        }
    }
}
