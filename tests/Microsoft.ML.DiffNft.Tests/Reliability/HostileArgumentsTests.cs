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
