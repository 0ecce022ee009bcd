using Microsoft.ML.DiffNft.Collections;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// Every command that reads a collection, run on every collection of <see cref="MalformedCollections"/>: each run either
/// exits 0 with a correct result, or exits 1 with one line naming the file, token or value — never a stack trace or an
/// exception type leaking, never a command that succeeds where it must not (or fails where it must not).
/// </summary>
/// <remarks>
/// The default run covers every failure (fast: they stop before any training), rarity on every collection, and one
/// training command per collection that must succeed, in rotation; evaluate only where it must fail. Set
/// <c>DIFFNFT_FUZZ_LARGE=1</c> for the whole matrix (every command on every collection, about 5 minutes).
/// </remarks>
public sealed class CollectionFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Trainers = ["train-reward", "train-diffusion", "train-trait-classifier"];

    /// <summary>(collection, command) pairs: the whole matrix with DIFFNFT_FUZZ_LARGE=1, else the default selection.</summary>
    public static TheoryData<string, string> Runs()
    {
        bool large = Environment.GetEnvironmentVariable("DIFFNFT_FUZZ_LARGE") == "1";
        var data = new TheoryData<string, string>();
        var cases = MalformedCollections.All;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            string rotating = Trainers[i % Trainers.Length];
            foreach (string command in CollectionCommands.All)
            {
                bool fails = !c.Succeeds.Contains(command);
                if (large || fails || command == "rarity" || command == rotating) data.Add(c.Name, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void ACommandOnAMalformedCollectionSucceedsCorrectlyOrFailsOnOneLineNamingTheProblem(string collection, string command)
    {
        var malformed = MalformedCollections.Named(collection);
        using var c = new HostileCollection();
        malformed.Damage(c);

        var (code, stdout, error) = Cli.Run(CollectionCommands.For(command, c.Dir, c.Output));
        output.WriteLine($"{command} on {collection} → {code}\n{stdout}{error}");

        if (malformed.Succeeds.Contains(command))
        {
            Assert.True(code == 0, $"{command} on {collection} must succeed; exited {code}: {error}");
            CollectionCommands.AssertNoStackTrace(command, stdout + error);
            AssertResult(command, c);
            return;
        }
        string line = CollectionCommands.AssertCleanFailure(command, code, stdout, error);
        foreach (string needle in malformed.Needles(c))
            Assert.True(line.Contains(needle, StringComparison.Ordinal), $"{command} on {collection}: the error should name '{needle}': {line}");
    }

    [Fact]
    public void EveryClassOfDamageHasCasesAndNamesAreUnique()
    {
        var counts = MalformedCollections.All.GroupBy(c => c.Class).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}")) + $"; {MalformedCollections.All.Count} in all");
        Assert.Equal(MalformedCollections.All.Count, MalformedCollections.All.Select(c => c.Name).Distinct().Count());
        foreach (string kind in new[] { "empty", "tokens", "images", "traits", "ids", "unicode", "encoding" })
            Assert.True(counts.GetValueOrDefault(kind) >= 2, $"class {kind} has {counts.GetValueOrDefault(kind)} case(s)");
    }

    // What a successful run must have written: rarity one row per token, the trainers their model, evaluate its metrics.
    private static void AssertResult(string command, HostileCollection c)
    {
        switch (command)
        {
            case "rarity":
                int tokens = NftCollectionLoader.Load(c.Dir, new NftCollectionLoadOptions { LoadImages = false, LoadCaptions = false }).Count;
                var rows = File.ReadAllLines(Path.Combine(c.Output, "rarity.csv"));
                Assert.Equal("token_id,score,rank,is_rare", rows[0]);
                Assert.Equal(tokens, rows.Length - 1);
                Assert.All(rows.Skip(1), r => Assert.True(double.IsFinite(double.Parse(r.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)), r));
                break;
            case "train-reward":
                Assert.True(File.Exists(Path.Combine(c.Output, "reward")), "no reward model");
                break;
            case "train-diffusion":
                Assert.True(File.Exists(Path.Combine(c.Output, "m.diffnft")), "no diffusion model");
                break;
            case "train-trait-classifier":
                Assert.True(File.Exists(Path.Combine(c.Output, "traits")), "no trait classifier");
                break;
            case "evaluate":
                Assert.Contains("\"fid_resnet18\"", File.ReadAllText(Path.Combine(c.Output, "metrics.json")));
                break;
        }
    }
}
