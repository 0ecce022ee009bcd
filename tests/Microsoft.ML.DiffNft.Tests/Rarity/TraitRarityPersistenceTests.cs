using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// Persistence: the package's model file round-trips a fitted transformer into a fresh MLContext with identical outputs;
/// mlContext.Model.Save refuses clearly; damaged files are rejected with the field named.
/// </summary>
public sealed class TraitRarityPersistenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "diffnft-rarity-" + Guid.NewGuid().ToString("N"));

    public TraitRarityPersistenceTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(RarityMethod.OpenRarity, true)]
    [InlineData(RarityMethod.OpenRarity, false)]
    [InlineData(RarityMethod.SumOfInverseFrequency, true)]
    [InlineData(RarityMethod.Statistical, false)]
    [InlineData(RarityMethod.Average, true)]
    public void RoundTripIntoFreshContextGivesIdenticalOutputs(RarityMethod method, bool doublePrecision)
    {
        var rng = new Random(11 + (int)method);
        var tokens = TraitRarityPropertyTests.RandomCollection(rng, 500, 6);
        var traitOrder = tokens.SelectMany(t => t.Keys).Distinct().ToList();
        var collection = TextTable.FromTokens(tokens, traitOrder: traitOrder);
        var fresh = TextTable.FromTokens(TraitRarityPropertyTests.RandomCollection(new Random(99), 200, 6)
            .Select(t => (IReadOnlyDictionary<string, string?>)t.Where(kv => traitOrder.Contains(kv.Key)).ToDictionary())
            .ToList(), traitOrder: traitOrder);

        var options = new TraitRarityOptions
        {
            Method = method,
            UseDoublePrecision = doublePrecision,
            ProbabilitiesColumnName = "P",
            RareQuantile = 0.1,
            ScoreColumnName = "S",
        };
        var fitted = new MLContext(seed: 1).Transforms.DiffNft.ComputeTraitRarity(options).Fit(collection);
        string path = Path.Combine(_dir, "rarity.json");
        fitted.Save(path);

        var loaded = new MLContext(seed: 2).Transforms.DiffNft.LoadTraitRarity(path);
        Assert.Equal(fitted.Method, loaded.Method);
        Assert.Equal(fitted.Table.Entropy, loaded.Table.Entropy);
        Assert.Equal(fitted.Table.RareThreshold, loaded.Table.RareThreshold);
        Assert.Equal(fitted.ProbabilitySlotNames, loaded.ProbabilitySlotNames);
        foreach (var view in new IDataView[] { collection, fresh })
            Assert.Equal(Dump(fitted.Transform(view)), Dump(loaded.Transform(view)));
        Assert.Equal(fitted.GetOutputSchema(collection.Schema).Select(c => (c.Name, c.Type)),
            loaded.GetOutputSchema(collection.Schema).Select(c => (c.Name, c.Type)));

        // Saving the loaded transformer writes the same file.
        string again = Path.Combine(_dir, "again.json");
        loaded.Save(again);
        Assert.Equal(File.ReadAllText(path), File.ReadAllText(again));
        Assert.Equal(2, Directory.GetFiles(_dir).Length);   // atomic writes leave no temporary files
    }

    [Fact]
    public void ModelSaveRefusesAndNamesTheModelFile()
    {
        var ml = new MLContext(seed: 1);
        var view = CryptoadzRarityTests.LoadAttributes();
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        var ex = Assert.Throws<NotSupportedException>(() => ml.Model.Save(rarity, view.Schema, Path.Combine(_dir, "m.zip")));
        Assert.Contains("mlContext.Model.SaveDiffNft", ex.Message);

        // Also inside a chain with built-in transforms.
        var chain = ml.Transforms.DiffNft.ComputeTraitRarity().Append(ml.Transforms.CopyColumns("Copy", "RarityScore")).Fit(view);
        var chainEx = Assert.Throws<NotSupportedException>(() => ml.Model.Save(chain, view.Schema, Path.Combine(_dir, "chain.zip")));
        Assert.Contains("mlContext.Model.SaveDiffNft", chainEx.Message);
    }

    [Theory]
    [InlineData("{ not json", "is not valid JSON (line 1")]
    [InlineData("[]", "field '(root)' must be a JSON object")]
    [InlineData("{\"format\": 3}", "field 'format' must be a string; got the number 3")]
    public void RejectsDamagedFilesNamingFileAndField(string text, string expected)
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, text);
        var ex = Assert.Throws<InvalidDataException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("\"version\":1", "\"version\":2", "field 'version' is 2: the file was written by a newer")]
    [InlineData("\"format\":\"Microsoft.ML.DiffNft.TraitRarityModel\"", "\"format\":\"other\"", "field 'format' must be")]
    [InlineData("\"method\":\"OpenRarity\"", "\"method\":\"Magic\"", "field 'method' must be one of")]
    [InlineData("\"tokenCount\":5", "\"tokenCount\":6", "field 'traits[0]' counts 5 tokens")]
    [InlineData("\"nullCount\":0", "\"nullCount\":-1", "field 'traits[0].nullCount' must not be negative")]
    [InlineData("\"rareQuantile\":0.05", "\"rareQuantile\":0", "field 'rareQuantile' must be in (0, 1]")]
    [InlineData("\"values\":[\"blue\"", "\"values\":[\"Blue\"", "field 'traits[0].values[0]' \"Blue\" is not trimmed and lower-cased")]
    [InlineData("\"rank\":\"RarityRank\",", "", "field 'columns.rank' is missing")]
    public void RejectsEditedFilesNamingTheField(string find, string replace, string expected)
    {
        var tokens = new List<IReadOnlyDictionary<string, string?>>
        {
            new Dictionary<string, string?> { ["eyes"] = "blue", ["hat"] = "cap" },
            new Dictionary<string, string?> { ["eyes"] = "blue", ["hat"] = "cap" },
            new Dictionary<string, string?> { ["eyes"] = "green", ["hat"] = "cap" },
            new Dictionary<string, string?> { ["eyes"] = "blue" },
            new Dictionary<string, string?> { ["eyes"] = "red", ["hat"] = "crown" },
        };
        var rarity = new MLContext().Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.FromTokens(tokens));
        string path = Path.Combine(_dir, "model.json");
        rarity.Save(path);
        string text = File.ReadAllText(path);
        Assert.Contains(find, text);
        File.WriteAllText(path, text.Replace(find, replace));
        var ex = Assert.Throws<InvalidDataException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(path));
        Assert.Contains($"Trait rarity model '{path}'", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void RejectsRankingOutOfOrderAndCountsThatDoNotAddUp()
    {
        // Values a ×4, b ×3, c ×2: three distinct scores, none unique.
        var tokens = "aaaabbbcc".Select(c => (IReadOnlyDictionary<string, string?>)new Dictionary<string, string?> { ["t"] = c.ToString() }).ToList();
        var rarity = new MLContext().Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.FromTokens(tokens));
        string path = Path.Combine(_dir, "model.json");
        rarity.Save(path);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;

        var swapped = json.DeepClone();
        var scores = swapped["ranking"]!["scores"]!.AsArray();
        (scores[0], scores[1]) = (scores[1]!.DeepClone(), scores[0]!.DeepClone());
        File.WriteAllText(path, swapped.ToJsonString());
        Assert.Contains("field 'ranking' entry 1 is not after entry 0 in rarity order",
            Assert.Throws<InvalidDataException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(path)).Message);

        var moreTokens = json.DeepClone();
        var counts = moreTokens["ranking"]!["tokenCounts"]!.AsArray();
        counts[0] = counts[0]!.GetValue<int>() + 1;
        File.WriteAllText(path, moreTokens.ToJsonString());
        Assert.Contains("field 'ranking.tokenCounts' adds up to 10 tokens; tokenCount is 9",
            Assert.Throws<InvalidDataException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(path)).Message);

        var entropy = json.DeepClone();
        entropy["traits"]![0]!["counts"]![0] = entropy["traits"]![0]!["counts"]![0]!.GetValue<int>() + 1;
        entropy["traits"]![0]!["counts"]![1] = entropy["traits"]![0]!["counts"]![1]!.GetValue<int>() - 1;
        File.WriteAllText(path, entropy.ToJsonString());
        Assert.Contains("field 'entropy' is",
            Assert.Throws<InvalidDataException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(path)).Message);

        Assert.Throws<FileNotFoundException>(() => new MLContext().Transforms.DiffNft.LoadTraitRarity(Path.Combine(_dir, "missing.json")));
    }

    /// <summary>Every output value of every row, as text with round-trip precision.</summary>
    private static List<string> Dump(IDataView view)
    {
        var rows = new List<string>();
        var outputs = view.Schema.Where(c => !c.IsHidden && c.Name is "S" or "RarityRank" or "IsRare" or "P").ToList();
        using var cursor = view.GetRowCursor(outputs);
        var getters = outputs.Select(c => MakeGetter(cursor, c)).ToList();
        while (cursor.MoveNext())
            rows.Add(string.Join("|", getters.Select(g => g())));
        return rows;
    }

    private static Func<string> MakeGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var raw = column.Type.RawType;
        if (raw == typeof(float)) { var g = cursor.GetGetter<float>(column); return () => { float v = 0; g(ref v); return v.ToString("R"); }; }
        if (raw == typeof(double)) { var g = cursor.GetGetter<double>(column); return () => { double v = 0; g(ref v); return v.ToString("R"); }; }
        if (raw == typeof(int)) { var g = cursor.GetGetter<int>(column); return () => { int v = 0; g(ref v); return v.ToString(); }; }
        if (raw == typeof(bool)) { var g = cursor.GetGetter<bool>(column); return () => { bool v = false; g(ref v); return v.ToString(); }; }
        if (raw == typeof(VBuffer<float>)) { var g = cursor.GetGetter<VBuffer<float>>(column); return () => { var v = default(VBuffer<float>); g(ref v); return string.Join(",", v.DenseValues().Select(x => x.ToString("R"))); }; }
        if (raw == typeof(VBuffer<double>)) { var g = cursor.GetGetter<VBuffer<double>>(column); return () => { var v = default(VBuffer<double>); g(ref v); return string.Join(",", v.DenseValues().Select(x => x.ToString("R"))); }; }
        throw new InvalidOperationException($"Unexpected column type {column.Type}.");
    }
}
