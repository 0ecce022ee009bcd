using DiffNft.Cli;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>A tiny collection and a tiny diffusion model that every fuzzed command can run on in a second or two.</summary>
public sealed class ArgumentFuzzFixture : IDisposable
{
    public ArgumentFuzzFixture()
    {
        Root = Directory.CreateTempSubdirectory("diffnft-argfuzz-").FullName;
        Collection = Path.Combine(Root, "C");
        Model = Path.Combine(Root, "m.diffnft");
        var error = new StringWriter();
        if (CliApp.Run(["collection", "nouns", "--count", "12", "--seed", "1", "--out", Collection], new StringWriter(), error) != 0
            || CliApp.Run(["train-diffusion", "--collection", Collection, "--preset", "tiny", "--steps", "1", "--batch", "2", "--out", Model], new StringWriter(), error) != 0)
            throw new InvalidOperationException("The fuzz fixture could not be built: " + error);
    }

    public string Root { get; }

    public string Collection { get; }

    public string Model { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// Every numeric option of every command that trains, generates or scores, given values a hostile but fair user tries
/// (NaN, ±infinity, −1, 0, 1e308, a number too large for its type, words): the command either refuses with one line on
/// stderr that names the option (or its setting) and exit code 1, before writing anything, or accepts the value, exits 0
/// and writes its output. Never a stack trace, a .NET exception message, or exit 0 without its output. The default run
/// takes every third case; <c>DIFFNFT_FUZZ_LARGE=1</c> runs all of them.
/// </summary>
public sealed class ArgumentFuzzTests(ArgumentFuzzFixture fixture) : IClassFixture<ArgumentFuzzFixture>
{
    private static readonly string[] Doubles = ["NaN", "Infinity", "-Infinity", "-1", "0", "1e308", "abc"];
    private static readonly string[] Ints = ["-1", "0", "2147483648", "abc"];

    // command, the arguments that make it run in seconds ({C}, {M}, {R} and {OUT} are filled in), its output, and its
    // numeric options with their type ('d' double, 'i' int).
    private static readonly (string Command, string Args, string Output, string Options)[] Commands =
    [
        ("collection", "collection nouns --count 3 --seed 1 --out {OUT}", "{OUT}", "--count:i --seed:i"),
        ("train-diffusion", "train-diffusion --collection {C} --preset tiny --steps 1 --batch 2 --out {OUT}.diffnft", "{OUT}.diffnft",
            "--steps:i --minutes:d --batch:i --lr:d --min-snr:d --ema-decay:d --phrase-dropout:d --seed:i --checkpoint-every:i"),
        ("generate", "generate --model {M} --count 1 --steps 2 --out {OUT}", "{OUT}", "--count:i --seed:i --steps:i --guidance:d"),
        ("train-reward", "train-reward --collection {C} --preset tiny --steps 1 --batch 2 --out {OUT}/r.diffnft-reward", "{OUT}/r.diffnft-reward",
            "--minutes:d --steps:i --batch:i --lr:d --validation:d --seed:i --threads:i"),
        ("finetune", "finetune --base {M} --reward {R} --prompt x --iterations 1 --images-per-prompt 2 --steps 2 --train-batch 2 --sample-every 0 --out {OUT}.diffnft", "{OUT}.diffnft",
            "--kl-weight:d --iterations:i --minutes:d --lora-rank:i --prompts-per-iteration:i --images-per-prompt:i --steps:i --guidance:d --lr:d --seed:i --train-batch:i --inner-epochs:i --timestep-fraction:d --clip-range:d --checkpoint-every:i --sample-every:i"),
        ("train-trait-classifier", "train-trait-classifier --collection {C} --epochs 0.2 --batch 4 --width 8 --out {OUT}.diffnft-traits", "{OUT}.diffnft-traits",
            "--minutes:d --epochs:d --batch:i --lr:d --width:i --holdout:d --seed:i"),
        ("rarity", "rarity --input {C} --out {OUT}.csv", "{OUT}.csv", "--rare-quantile:d"),
    ];

    public static IEnumerable<object[]> Cases()
    {
        bool all = Environment.GetEnvironmentVariable("DIFFNFT_FUZZ_LARGE") == "1";
        int i = 0;
        foreach (var (command, _, _, options) in Commands)
            foreach (var option in options.Split(' '))
            {
                var parts = option.Split(':');
                foreach (string value in parts[1] == "d" ? Doubles : Ints)
                    if (all || i++ % 3 == 0)
                        yield return [command, parts[0], value];
            }
    }

    /// <summary>The number of cases in the full run (reported in docs/reliability.md).</summary>
    internal static int FullCount => Commands.Sum(c => c.Options.Split(' ').Sum(o => o.EndsWith(":d", StringComparison.Ordinal) ? Doubles.Length : Ints.Length));

    [Theory]
    [MemberData(nameof(Cases))]
    public void AHostileValueIsRefusedOnOneLineOrAccepted(string command, string option, string value)
    {
        var spec = Commands.Single(c => c.Command == command);
        string output = Path.Combine(fixture.Root, "out-" + Guid.NewGuid().ToString("N")[..8]);
        string Fill(string text) => text.Replace("{C}", fixture.Collection).Replace("{M}", fixture.Model).Replace("{OUT}", output)
            .Replace("{R}", Path.Combine(RepositoryPaths.Root, "models", "builtin", "reward.diffnft-reward"));
        var args = Fill(spec.Args).Split(' ').ToList();
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run([.. args], stdout, stderr);
        string error = stderr.ToString();
        string expectedOutput = Fill(spec.Output);
        Assert.DoesNotContain("   at ", error);
        if (code == 0)
        {
            Assert.True(File.Exists(expectedOutput) || Directory.Exists(expectedOutput), $"exit 0 without its output {expectedOutput}: {error}");
            return;
        }
        Assert.Equal(1, code);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            l => l.StartsWith("diffnft: error:", StringComparison.Ordinal));
        Assert.True(line.Contains(option, StringComparison.Ordinal) || line.Contains(value, StringComparison.Ordinal),
            $"the error does not name {option} or '{value}': {line}");
        Assert.DoesNotContain("System.", line);
        Assert.False(File.Exists(expectedOutput), $"{expectedOutput} was written although the command failed");
    }
}
