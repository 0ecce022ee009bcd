using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The commands that read a collection, with the tiniest settings that still run them end to end (one step, the tiny
/// presets, one thread), and the shape every failure must have: exit code 1 and one last line
/// <c>diffnft: error: …</c>, never a stack trace.
/// </summary>
internal static class CollectionCommands
{
    /// <summary>Every command that reads a collection.</summary>
    public static readonly string[] All = ["rarity", "train-reward", "train-diffusion", "train-trait-classifier", "evaluate"];

    /// <summary>The arguments of <paramref name="command"/> on the collection <paramref name="dir"/>, writing into <paramref name="output"/>.</summary>
    public static string[] For(string command, string dir, string output) => command switch
    {
        "rarity" => Rarity(dir, Path.Combine(output, "rarity.csv")),
        "train-reward" => ["train-reward", "--collection", dir, "--preset", "tiny", "--steps", "1", "--batch", "4", "--threads", "1",
            "--out", Path.Combine(output, "reward")],
        "train-diffusion" => TrainDiffusion(dir, Path.Combine(output, "m.diffnft")),
        "train-trait-classifier" => ["train-trait-classifier", "--collection", dir, "--epochs", "0.01", "--width", "4", "--batch", "4",
            "--threads", "1", "--out", Path.Combine(output, "traits")],
        "evaluate" => Evaluate(dir, Path.Combine(output, "metrics.json")),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not a command that reads a collection"),
    };

    /// <summary><c>diffnft rarity</c>.</summary>
    public static string[] Rarity(string dir, string csv) => ["rarity", "--input", dir, "--out", csv];

    /// <summary><c>diffnft train-diffusion</c>, one step of the tiny preset, no checkpoint.</summary>
    public static string[] TrainDiffusion(string dir, string model) =>
        ["train-diffusion", "--collection", dir, "--preset", "tiny", "--steps", "1", "--batch", "4", "--checkpoint-every", "0", "--out", model];

    /// <summary><c>diffnft evaluate</c> of the pristine collection's images against the reference <paramref name="dir"/>, N = 2.</summary>
    public static string[] Evaluate(string dir, string json) =>
        ["evaluate", "--generated", HostileCollection.Pristine, "--reference", dir, "--n", "2", "--no-cache", "--out", json];

    /// <summary>Runs <paramref name="command"/> on <paramref name="collection"/>, asserts a clean failure and returns its error line.</summary>
    public static string Fails(string command, HostileCollection collection)
    {
        var (code, stdout, error) = Cli.Run(For(command, collection.Dir, collection.Output));
        return AssertCleanFailure(command, code, stdout, error);
    }

    /// <summary>
    /// Asserts exit code 1, no stack trace, and exactly one error line, the last one; returns it.
    /// Progress lines before it ("training …", the evaluator's log) are allowed.
    /// </summary>
    public static string AssertCleanFailure(string command, int code, string stdout, string error)
    {
        Assert.True(code == 1, $"{command} exited {code}, expected 1. stdout: {stdout} stderr: {error}");
        AssertNoStackTrace(command, stdout + error);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("diffnft: error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, $"{command}: expected one error line, found {errors.Count}: {error}");
        Assert.Equal(errors[0], lines[^1]);
        return errors[0];
    }

    /// <summary>Asserts that no stack trace reached the output: no "   at " frame, no exception type name leaking.</summary>
    public static void AssertNoStackTrace(string command, string output)
    {
        Assert.False(output.Contains("   at ", StringComparison.Ordinal), $"{command} printed a stack trace: {output}");
        Assert.False(output.Contains("Exception:", StringComparison.Ordinal), $"{command} printed an exception: {output}");
    }
}
