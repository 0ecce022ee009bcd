using DiffNft.Cli;
using Microsoft.ML.DiffNft.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// Non-finite and absurd arguments are refused up front with one line naming the option, never a .NET message, a stack
/// trace, or exit 0 with a wrong result: <c>generate --guidance NaN</c> made black images, <c>train-diffusion --minutes 0</c>
/// saved an untrained model and <c>--lr 1e30</c> saved a NaN model.
/// </summary>
public sealed class HostileArgumentsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-args-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e308")]
    [InlineData("-1")]
    public void GenerateRefusesAGuidanceThatIsNotANumberOrIsAbsurd(string guidance)
    {
        string model = Path.Combine(RepositoryPaths.Root, "models", "builtin", "base.diffnft");
        string output = Path.Combine(_dir, "images");
        var (code, error) = Run(["generate", "--model", model, "--prompt", "a noun", "--count", "2", "--guidance", guidance, "--out", output]);
        Assert.Equal(1, code);
        Assert.Contains("GuidanceScale", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*.png").Any(), "images were written");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void TrainingRefusesABudgetThatIsNotAPositiveNumberOfMinutes(string minutes)
    {
        string output = Path.Combine(_dir, "m.diffnft");
        // The collection is never read: the budget is checked first.
        var (code, error) = Run(["train-diffusion", "--collection", Path.Combine(_dir, "absent"), "--preset", "tiny",
            "--minutes", minutes, "--out", output]);
        Assert.Equal(1, code);
        Assert.Contains("--minutes must be a positive number of minutes", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(output), "a model was saved");
    }

    [Theory]
    [InlineData(1e30)]
    [InlineData(double.NaN)]
    [InlineData(0.0)]
    public void TheTrainerRefusesALearningRateThatCannotTrain(double learningRate)
    {
        var options = new DiffusionTrainerOptions { LearningRate = learningRate };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(DiffusionTrainerOptions.LearningRate), ex.ParamName);
    }

    [Fact]
    public void ATrainingBatchThatCannotFitInMemoryIsRefusedBeforeTraining()
    {
        // Known answer: Small at 32×32 keeps 16×16×64 + 8×8×128 feature values per image, 64 stored values each, float32.
        Assert.Equal(24_576 * 64 * 4, TrainingMemory.BytesPerImage(UNetOptions.For(DiffusionPreset.Small)));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            TrainingMemory.CheckBatchFits(UNetOptions.For(DiffusionPreset.Small), 100_000, 8L << 30));
        Assert.Equal(nameof(DiffusionTrainerOptions.BatchSize), ex.ParamName);
        Assert.Contains("at most 1,365", ex.Message);
        TrainingMemory.CheckBatchFits(UNetOptions.For(DiffusionPreset.Small), 1_365, 8L << 30);

        // Through the CLI: one line naming the setting, the value and the largest batch, and no model.
        Assert.Equal(0, Run(["collection", "nouns", "--count", "20", "--seed", "1", "--out", Path.Combine(_dir, "c")]).Code);
        string output = Path.Combine(_dir, "big.diffnft");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, error) = Run(["train-diffusion", "--collection", Path.Combine(_dir, "c"), "--preset", "small", "--steps", "10",
            "--batch", "10000000", "--out", output]);
        Assert.Equal(1, code);
        string line = Assert.Single(error.Split('\n'), l => l.StartsWith("diffnft: error:", StringComparison.Ordinal));
        Assert.Contains("BatchSize (--batch) = 10000000", line);
        Assert.Contains("Use a batch of at most", line);
        Assert.False(File.Exists(output));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"refusing took {clock.Elapsed}");
    }

    [Fact]
    public void SamplingRefusesNonFiniteSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(new SamplingOptions { GuidanceScale = double.NaN }.Validate);
        Assert.Throws<ArgumentOutOfRangeException>(new SamplingOptions { Eta = double.PositiveInfinity }.Validate);
        new SamplingOptions { GuidanceScale = 7.5, Eta = 1 }.Validate();
    }

    private static (int Code, string Error) Run(string[] args)
    {
        var error = new StringWriter();
        int code = CliApp.Run(args, new StringWriter(), error);
        return (code, error.ToString());
    }
}
