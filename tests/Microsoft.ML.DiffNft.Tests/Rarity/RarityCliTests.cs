using System.Globalization;
using DiffNft.Cli;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Rarity.RarityTestHelpers;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// <c>diffnft rarity</c> and the collection loader end to end on CrypToadz (tests/data/cryptoadz, loaded from its
/// metadata.jsonl): the exact header, one row per token sorted by rank then token id, and the reference values.
/// </summary>
public sealed class RarityCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "diffnft-rarity-cli-" + Guid.NewGuid().ToString("N"));

    public RarityCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData(null, "or_score", "or_rank")]
    [InlineData("sum", "rt_sum_score", "rt_sum_score_rank")]
    [InlineData("statistical", "log10_stat_prob", "log10_stat_prob_rank")]
    [InlineData("average", "avg_trait_prob", "avg_trait_prob_rank")]
    public void WritesReferenceRanksForCryptoadz(string? method, string scoreColumn, string rankColumn)
    {
        string output = Path.Combine(_dir, "ranks.csv");
        var args = new List<string> { "rarity", "--input", DataPath("cryptoadz"), "--out", output };
        if (method is not null) args.AddRange(["--method", method]);
        var (code, stdout, stderr) = Run([.. args]);
        Assert.True(code == 0, stderr);
        Assert.Contains("Scored 7,025 tokens", stdout);
        Assert.Contains("numeric traits left out: # Traits", stdout);

        var lines = File.ReadAllLines(output);
        Assert.Equal("token_id,score,rank,is_rare", lines[0]);
        Assert.Equal(7026, lines.Length);
        var reference = ReadSimpleCsv(DataPath("cryptoadz", "rarity-reference-openrarity-0.7.5.csv")).ToDictionary(r => r["token_id"]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(reference.Keys.Order(), rows.Select(r => r[0]).Order());
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            var expected = reference[r[0]];
            AssertRelative(double.Parse(expected[scoreColumn], CultureInfo.InvariantCulture), double.Parse(r[1], CultureInfo.InvariantCulture), 1e-12, $"token {r[0]}");
            Assert.Equal(expected[rankColumn], r[2]);
            Assert.Contains(r[3], new[] { "true", "false" });
            if (i > 0)
            {
                var p = rows[i - 1];
                int byRank = int.Parse(p[2], CultureInfo.InvariantCulture).CompareTo(int.Parse(r[2], CultureInfo.InvariantCulture));
                Assert.True(byRank < 0 || (byRank == 0 && long.Parse(p[0], CultureInfo.InvariantCulture) < long.Parse(r[0], CultureInfo.InvariantCulture)),
                    $"line {i + 1} ({r[0]}) is not after line {i} ({p[0]}) by rank then token id");
            }
        }
        // 5 % of 7,025 → the 352 rarest by score (and ties with the 352nd) are rare.
        Assert.InRange(rows.Count(r => r[3] == "true"), 352, 360);
    }

    [Fact]
    public void RarityQuantileChangesTheRareShare()
    {
        string output = Path.Combine(_dir, "ranks.csv");
        var (code, _, stderr) = Run("rarity", "--input", DataPath("cryptoadz"), "--rare-quantile", "0.2", "--out", output);
        Assert.True(code == 0, stderr);
        int rare = File.ReadLines(output).Skip(1).Count(l => l.EndsWith(",true", StringComparison.Ordinal));
        Assert.InRange(rare, 1405, 1420);   // ⌈0.2 · 7025⌉ = 1405, plus ties
    }

    [Theory]
    [InlineData(new[] { "--method", "magic" }, "--method must be one of")]
    [InlineData(new[] { "--rare-quantile", "0" }, "--rare-quantile must be in (0, 1]")]
    public void RejectsBadOptionsWithOneLine(string[] extra, string expected)
    {
        var (code, _, stderr) = Run(["rarity", "--input", DataPath("cryptoadz"), "--out", Path.Combine(_dir, "x.csv"), .. extra]);
        Assert.Equal(1, code);
        Assert.StartsWith("diffnft: error: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.csv")));
    }

    [Fact]
    public void MissingInputIsAnInputError()
    {
        var (code, _, stderr) = Run("rarity", "--input", Path.Combine(_dir, "nope"), "--out", Path.Combine(_dir, "x.csv"));
        Assert.Equal(1, code);
        Assert.StartsWith("diffnft: error: ", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void LoadedCollectionScoresLikeTheReference()
    {
        // mlContext.Data.LoadNftCollection → ComputeTraitRarity with every default: the numeric "# Traits" column is
        // recognised from its annotation and left out; Image (and any Caption) are not traits.
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadNftCollection(DataPath("cryptoadz"));
        Assert.NotNull(view.Schema.GetColumnOrNull("Image"));
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        Assert.Equal(11, rarity.Table.Traits.Count);
        AssertRelative(26.670646755704038, rarity.Table.Entropy, 1e-12, "entropy");
        var reference = ReadSimpleCsv(DataPath("cryptoadz", "rarity-reference-openrarity-0.7.5.csv")).ToDictionary(r => r["token_id"]);
        foreach (var row in ReadScores(rarity.Transform(view)))
        {
            Assert.Equal(reference[row.TokenId]["or_rank"], row.Rank.ToString(CultureInfo.InvariantCulture));
            Assert.Equal((float)double.Parse(reference[row.TokenId]["or_score"], CultureInfo.InvariantCulture), (float)row.Score);
        }
    }
}
