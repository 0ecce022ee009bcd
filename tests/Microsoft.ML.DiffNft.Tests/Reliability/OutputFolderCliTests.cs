using System.Diagnostics;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Xunit;
using Xunit.Abstractions;
using static Microsoft.ML.DiffNft.Tests.Reliability.OutputTestSupport;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The output-folder defects a hostile-user run found (issue 16, items 5 and 6), each reproduced through the CLI:
/// stale images of an earlier <c>generate</c> mixed into <c>evaluate</c>; <c>collection</c> and <c>quickstart</c>
/// deleting or overwriting a user's files; <c>train-reward</c> replacing another model's <c>metrics.json</c>; two runs on
/// one <c>--out</c> both succeeding; and I/O failures (a file in the folder's place, a read-only folder, a full disk)
/// ending in stack traces after the work, with temporary files left behind.
/// </summary>
public sealed class OutputFolderCliTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-outcli-").FullName;

    public OutputFolderCliTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EvaluateNeverMixesInTheImagesOfAnEarlierGenerate()
    {
        string generated = Path.Combine(_dir, "gen");
        Assert.Equal(0, Generate(generated, count: 6).Code);
        var second = Generate(generated, count: 3, seed: 100);
        Assert.True(second.Code == 0, second.Error);
        // The rerun removed its earlier images 3-5 …
        Assert.Equal(["0.png", "1.png", "2.png"], Directory.EnumerateFiles(Path.Combine(generated, "images")).Select(Path.GetFileName).Order());
        // … and a user's image put into images/ (allowed with --overwrite) is never read as a generated one.
        File.Copy(Path.Combine(generated, "images", "0.png"), Path.Combine(generated, "images", "mine.png"));
        Assert.Equal(0, Generate(generated, count: 3, seed: 100, "--overwrite").Code);
        Assert.True(File.Exists(Path.Combine(generated, "images", "mine.png")));
        var images = EvaluationData.LoadImageFolder(generated).Tokens.Select(t => t.TokenId).ToList();
        Assert.Equal(["0.png", "1.png", "2.png"], images);

        // evaluate sees 3 images: asking for N = 4 is an error, not a silent mix of old and new.
        string reference = Collection(Path.Combine(_dir, "ref"), count: 8);
        var evaluate = Run("evaluate", "--generated", generated, "--reference", reference, "--n", "4", "--no-cache", "--out", Path.Combine(_dir, "m.json"));
        Assert.Equal(1, evaluate.Code);
        Assert.Contains("only 3 generated images", evaluate.Error);
    }

    [Fact]
    public void CollectionAtAFolderWithAUsersFilesDeletesAndOverwritesNothingWithoutOverwrite()
    {
        string folder = Path.Combine(_dir, "art");
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        File.WriteAllText(Path.Combine(folder, "images", "5.png"), "my art");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "my notes");
        var refused = Run("collection", "nouns", "--count", "3", "--out", folder);
        Assert.Equal(1, refused.Code);
        AssertOneLineNaming(refused.Error, folder);
        Assert.Contains("--overwrite", refused.Error);
        Assert.Equal("my art", File.ReadAllText(Path.Combine(folder, "images", "5.png")));
        Assert.Equal(["images", "notes.txt"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Order());

        var overwritten = Run("collection", "nouns", "--count", "3", "--out", folder, "--overwrite");
        Assert.True(overwritten.Code == 0, overwritten.Error);
        Assert.Equal("my notes", File.ReadAllText(Path.Combine(folder, "notes.txt")));
    }

    [Fact]
    public void QuickstartAtAFolderWithAUsersModelOverwritesNothingWithoutOverwrite()
    {
        string folder = Path.Combine(_dir, "work");
        Directory.CreateDirectory(Path.Combine(folder, "models"));
        File.WriteAllText(Path.Combine(folder, "models", "base.diffnft"), "my model");
        var refused = Run("quickstart", "--out", folder, "--plain", "--n", "2");
        Assert.Equal(1, refused.Code);
        AssertOneLineNaming(refused.Error, folder);
        Assert.Contains("--overwrite", refused.Error);
        Assert.Equal("my model", File.ReadAllText(Path.Combine(folder, "models", "base.diffnft")));
        Assert.Equal(["models"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void TrainRewardBesideAnotherModelLeavesThatModelsMetricsAlone()
    {
        string collection = Collection(Path.Combine(_dir, "c"), count: 12);
        string models = Path.Combine(_dir, "models");
        Directory.CreateDirectory(models);
        string theirs = Path.Combine(models, "metrics.json");
        File.Copy(Path.Combine(RepositoryPaths.Root, "models", "builtin", "metrics.json"), theirs);
        byte[] before = File.ReadAllBytes(theirs);

        string model = Path.Combine(models, "x.diffnft-reward");
        var trained = Run("train-reward", "--collection", collection, "--preset", "tiny", "--steps", "1", "--batch", "4", "--threads", "1", "--out", model);
        Assert.True(trained.Code == 0, trained.Error);
        Assert.Equal(before, File.ReadAllBytes(theirs));
        Assert.True(File.Exists(model));
        Assert.True(File.Exists(model + ".metrics.json"));

        // As a folder --out, the folder holds files no train-reward run wrote: refused, nothing replaced.
        var refused = Run("train-reward", "--collection", collection, "--preset", "tiny", "--steps", "1", "--out", models + "/");
        Assert.Equal(1, refused.Code);
        AssertOneLineNaming(refused.Error, models);
        Assert.Equal(before, File.ReadAllBytes(theirs));
    }

    [Fact]
    public void ASecondWriterOfTheSameOutputFailsAtOnce()
    {
        string generated = Path.Combine(_dir, "gen");
        using (OutputFolder.Open(generated, "generate", overwrite: false, ["images/", "grid.png"]))
        {
            var second = Generate(generated, count: 2);
            Assert.Equal(1, second.Code);
            AssertOneLineNaming(second.Error, generated);
            Assert.Contains($"is in use by another diffnft run (pid {Environment.ProcessId}, diffnft generate", second.Error);
            Assert.DoesNotContain("generated ", second.Error);
        }

        string collection = Collection(Path.Combine(_dir, "c"), count: 8);
        string model = Path.Combine(_dir, "m.diffnft");
        using (OutputFile.Open(model, "train-diffusion"))
        {
            var second = Run("train-diffusion", "--collection", collection, "--preset", "tiny", "--steps", "2", "--batch", "4", "--out", model);
            Assert.Equal(1, second.Code);
            AssertOneLineNaming(second.Error, model);
            Assert.DoesNotContain("step ", second.Error);
            Assert.False(File.Exists(model + ".ckpt"));
        }

        Assert.Equal(0, Generate(generated, count: 2).Code);
        string metrics = Path.Combine(_dir, "metrics.json");
        using (OutputFile.Open(metrics, "evaluate"))
        {
            var second = Run("evaluate", "--generated", generated, "--reference", collection, "--n", "2", "--no-cache", "--out", metrics);
            Assert.Equal(1, second.Code);
            AssertOneLineNaming(second.Error, metrics);
        }
        Assert.False(File.Exists(metrics));
    }

    [Fact]
    public void GenerateIntoAFileFailsBeforeAnyImageIsMade()
    {
        string file = Path.Combine(_dir, "out");
        File.WriteAllText(file, "a file");
        var clock = Stopwatch.StartNew();
        // 64 images of 20 steps take minutes on 2 cores; the refusal comes before the first.
        var result = Run("generate", "--model", BaseModel, "--count", "64", "--steps", "20", "--out", file);
        Assert.Equal(1, result.Code);
        AssertOneLineNaming(result.Error, file);
        Assert.Contains("is a file", result.Error);
        Assert.DoesNotContain("generated ", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Equal("a file", File.ReadAllText(file));

        // A parent that is a file, and an output file that is a folder, fail as early.
        AssertOneLineNaming(Generate(Path.Combine(file, "sub"), count: 64).Error, Path.Combine(file, "sub"));
        var evaluate = Run("evaluate", "--generated", _dir, "--reference", _dir, "--out", _dir);
        Assert.Equal(1, evaluate.Code);
        AssertOneLineNaming(evaluate.Error, _dir);
        Assert.Contains("is a folder", evaluate.Error);
        var finetune = Run("finetune", "--base", BaseModel, "--reward", RewardModel, "--out", _dir);
        Assert.Equal(1, finetune.Code);
        AssertOneLineNaming(finetune.Error, _dir);
    }

    [Fact]
    public void AReadOnlyFolderIsOneLineNamingItAndLeavesNoTemporaryFile()
    {
        if (!PermissionsEnforced)
        {
            // Root ignores permissions; AFolderThatCannotBeWrittenIsOneLine simulates the same with the fault seam.
            _output.WriteLine("Skipped: this process writes into read-only folders anyway (it runs as root), so chmod 555 cannot make one.");
            return;
        }
        string ro = Path.Combine(_dir, "ro");
        Directory.CreateDirectory(ro);
        string collection = Collection(Path.Combine(_dir, "c"), count: 4);
        using (ReadOnly(ro))
        {
            foreach (var (args, path) in new (string[], string)[]
            {
                (["generate", "--model", BaseModel, "--count", "2", "--steps", "2", "--out", ro], ro),
                (["generate", "--model", BaseModel, "--count", "2", "--steps", "2", "--out", Path.Combine(ro, "sub")], Path.Combine(ro, "sub")),
                (["collection", "nouns", "--count", "2", "--out", Path.Combine(ro, "c")], Path.Combine(ro, "c")),
                (["train-diffusion", "--collection", collection, "--preset", "tiny", "--steps", "1", "--batch", "2", "--out", Path.Combine(ro, "m.diffnft")], Path.Combine(ro, "m.diffnft")),
                (["rarity", "--input", collection, "--out", Path.Combine(ro, "r.csv")], Path.Combine(ro, "r.csv")),
            })
            {
                var result = Run(args);
                Assert.Equal(1, result.Code);
                AssertOneLineNaming(result.Error, path);
                Assert.Contains("permission denied", result.Error);
            }
        }
        AssertNoTemporaryFiles(_dir);
        Assert.Empty(Directory.EnumerateFileSystemEntries(ro));
    }

    [Fact]
    public void AFolderThatCannotBeWrittenIsOneLine()
    {
        // The same as a read-only folder, simulated: every write in the folder is refused as the OS refuses it.
        string folder = Path.Combine(_dir, "denied");
        (int Code, string Out, string Error) result;
        using (IoFaults.Inject(p => p.StartsWith(folder, StringComparison.Ordinal) ? new UnauthorizedAccessException($"Access to the path '{p}' is denied.") : null))
            result = Generate(folder, count: 2);
        Assert.Equal(1, result.Code);
        AssertOneLineNaming(result.Error, folder);
        Assert.Contains("permission denied", result.Error);
        Assert.DoesNotContain("generated ", result.Error);
        AssertNoTemporaryFiles(_dir);
    }

    [Fact]
    public void ADiskThatFillsDuringTheWriteIsOneLineNamingTheFileAndLeavesNoTemporaryFile()
    {
        // Simulated (a real full disk needs a tiny file system mounted): the probe passes, then image 3 does not fit.
        string folder = Path.Combine(_dir, "c");
        (int Code, string Out, string Error) result;
        using (IoFaults.Inject(p => p.Contains($"{Path.DirectorySeparatorChar}3.png.", StringComparison.Ordinal) ? IoFaults.DiskFull(p) : null))
            result = Run("collection", "nouns", "--count", "6", "--out", folder);
        Assert.Equal(1, result.Code);
        AssertOneLineNaming(result.Error, Path.Combine(folder, "images", "3.png"));
        Assert.Contains("No space left on device", result.Error);
        AssertNoTemporaryFiles(_dir);
        // The folder says its run did not finish, and a rerun (with space) completes it.
        Assert.False(OutputMarker.Read(folder)!.IsComplete);
        var rerun = Run("collection", "nouns", "--count", "6", "--out", folder);
        Assert.True(rerun.Code == 0, rerun.Error);
        Assert.True(OutputMarker.Read(folder)!.IsComplete);

        string generated = Path.Combine(_dir, "gen");
        using (IoFaults.Inject(p => p.Contains("grid.png.", StringComparison.Ordinal) ? IoFaults.DiskFull(p) : null))
            result = Generate(generated, count: 2);
        Assert.Equal(1, result.Code);
        AssertOneLineNaming(result.Error, Path.Combine(generated, "grid.png"));
        AssertNoTemporaryFiles(_dir);
        Assert.Contains("stopped before it finished", Assert.Throws<InvalidDataException>(() => EvaluationData.LoadImageFolder(generated)).Message);
    }

    private static (int Code, string Out, string Error) Generate(string folder, int count, long seed = 0, params string[] extra) =>
        Run(["generate", "--model", BaseModel, "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--steps", "2", "--out", folder, .. extra]);

    private static string Collection(string folder, int count)
    {
        var result = Run("collection", "nouns", "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "1", "--out", folder);
        Assert.True(result.Code == 0, result.Error);
        return folder;
    }
}
