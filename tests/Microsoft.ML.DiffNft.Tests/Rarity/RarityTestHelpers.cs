using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>Shared reading and comparison helpers for the rarity tests.</summary>
internal static class RarityTestHelpers
{
    public static string DataPath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "data", .. parts]);

    /// <summary>Asserts |actual − expected| ≤ tol·|expected| (or ≤ tol when expected is 0).</summary>
    public static void AssertRelative(double expected, double actual, double tol, string what)
    {
        double err = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(err <= tol, $"{what}: expected {expected:R}, got {actual:R} (relative error {err:E2} > {tol:E0})");
    }

    /// <summary>One output row of a rarity transform.</summary>
    public readonly record struct ScoredRow(string TokenId, double Score, int Rank, bool IsRare);

    /// <summary>Reads TokenId and the rarity columns (score as double or float) of every row.</summary>
    public static List<ScoredRow> ReadScores(IDataView view, string score = "RarityScore", string rank = "RarityRank", string isRare = "IsRare")
    {
        var s = view.Schema;
        var cols = new[] { s["TokenId"], s[score], s[rank], s[isRare] };
        var result = new List<ScoredRow>();
        using var cursor = view.GetRowCursor(cols);
        var id = cursor.GetGetter<ReadOnlyMemory<char>>(s["TokenId"]);
        bool dbl = s[score].Type.RawType == typeof(double);
        var getD = dbl ? cursor.GetGetter<double>(s[score]) : null;
        var getF = dbl ? null : cursor.GetGetter<float>(s[score]);
        var getR = cursor.GetGetter<int>(s[rank]);
        var getB = cursor.GetGetter<bool>(s[isRare]);
        ReadOnlyMemory<char> idv = default;
        double d = 0;
        float f = 0;
        int r = 0;
        bool b = false;
        while (cursor.MoveNext())
        {
            id(ref idv);
            if (dbl) getD!(ref d);
            else { getF!(ref f); d = f; }
            getR(ref r);
            getB(ref b);
            result.Add(new ScoredRow(idv.ToString(), d, r, b));
        }
        return result;
    }

    /// <summary>Reads a CSV without quoted fields into header-keyed rows.</summary>
    public static List<Dictionary<string, string>> ReadSimpleCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var rows = new List<Dictionary<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (line.Contains('"') || cells.Length != header.Length)
                Assert.Fail($"{path}: line '{line}' has quotes or {cells.Length} cells instead of {header.Length}.");
            rows.Add(header.Zip(cells).ToDictionary(p => p.First, p => p.Second));
        }
        return rows;
    }
}
