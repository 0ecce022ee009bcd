using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Rarity;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Rarity.RarityTestHelpers;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>The estimator and transformer as ML.NET components: catalog, schemas, column choice, errors, engines, cursors.</summary>
public class TraitRarityPipelineTests
{
    private static readonly List<IReadOnlyDictionary<string, string?>> Tokens =
    [
        new Dictionary<string, string?> { ["Hat"] = "Cap", ["Eyes"] = "blue", ["Level"] = "3" },
        new Dictionary<string, string?> { ["Hat"] = "cap ", ["Eyes"] = "Blue", ["Level"] = "3" },
        new Dictionary<string, string?> { ["Hat"] = "crown", ["Eyes"] = "blue", ["Level"] = "7" },
        new Dictionary<string, string?> { ["Eyes"] = "green", ["Level"] = "3" },
    ];

    [Fact]
    public void CatalogIsOnePerContextAndUsesTheContextsEnvironment()
    {
        var ml = new MLContext(seed: 1);
        Assert.Same(ml.Transforms.DiffNft, ml.Transforms.DiffNft);
        Assert.NotSame(ml.Transforms.DiffNft, new MLContext().Transforms.DiffNft);

        // Messages from Fit reach this context's log: the catalog holds the context's own environment.
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        ml.Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.FromTokens(Tokens));
        Assert.Contains(messages, m => m.Contains("Trait rarity (OpenRarity): 4 tokens, 3 trait types"));
    }

    [Fact]
    public void NormalisesNamesAndValuesLikeOpenRarity()
    {
        var rarity = new MLContext().Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.FromTokens(Tokens));
        var hat = Assert.Single(rarity.Table.Traits, t => t.Name == "hat");
        Assert.Equal(["cap", "crown"], hat.Values);
        Assert.Equal([2, 1], hat.Counts);
        Assert.Equal(1, hat.NullCount);
        Assert.Equal(2, hat.GetCount(" CAP"));
        Assert.Equal(0, hat.GetCount("beret"));
        Assert.Equal([0, 0, 1, 3], rarity.Table.TraitCountCounts);   // three tokens with 3 traits, one with 2
    }

    [Fact]
    public void DefaultColumnsAreAnnotatedTraitsWithoutNumericOnes()
    {
        var ml = new MLContext();
        var view = TextTable.FromTokens(Tokens, annotate: true, numericTraits: new HashSet<string> { "Level" });
        var excluded = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        Assert.Equal(["Hat", "Eyes"], excluded.Table.Traits.Select(t => t.TraitType));
        Assert.Equal(["T_Hat", "T_Eyes"], excluded.Table.Traits.Select(t => t.ColumnName));

        var asText = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { NumericTraits = NumericTraitHandling.TreatAsString }).Fit(view);
        Assert.Equal(["Hat", "Eyes", "Level"], asText.Table.Traits.Select(t => t.TraitType));
        Assert.True(asText.Table.Traits[2].IsNumeric);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.DiffNft.ComputeTraitRarity(traitColumnNames: ["T_Hat", "T_Level"]).Fit(view));
        Assert.Contains("Trait column 'T_Level' holds a numeric trait", ex.Message);
        Assert.Contains("TreatAsString", ex.Message);
    }

    [Fact]
    public void WithoutAnnotationsEveryTextColumnButIdImageAndCaptionIsATrait()
    {
        var view = TextTable.Create(["TokenId", "Caption", "Hat", "Eyes"],
            [["1", "a cap", "cap", "blue"], ["2", "a crown", "crown", "blue"]]);
        var rarity = new MLContext().Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        Assert.Equal(["Hat", "Eyes"], rarity.Table.Traits.Select(t => t.ColumnName));
    }

    [Fact]
    public void ReportsMissingAndMistypedColumnsInMlNetsWords()
    {
        var ml = new MLContext();
        var view = TextTable.FromTokens(Tokens);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.ComputeTraitRarity(traitColumnNames: ["Nope"]).Fit(view));
        Assert.Contains("Could not find input column 'Nope'", missing.Message);
        var shapeMissing = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.DiffNft.ComputeTraitRarity(traitColumnNames: ["Nope"]).GetOutputSchema(ShapeOf(view.Schema)));
        Assert.Contains("Could not find input column 'Nope'", shapeMissing.Message);

        var numbers = ml.Data.LoadFromEnumerable([new NumericRow { TokenId = "1", Hat = 2f }]);
        var mistyped = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.ComputeTraitRarity(traitColumnNames: ["Hat"]).Fit(numbers));
        Assert.Contains("Schema mismatch for input column 'Hat': expected String, got Single", mistyped.Message);

        // Transforming data that lacks a fitted trait column.
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view);
        var other = TextTable.Create(["TokenId", "Hat"], [["1", "cap"]]);
        var bind = Assert.Throws<ArgumentOutOfRangeException>(() => rarity.Transform(other));
        Assert.Contains("Could not find input column 'Eyes'", bind.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.ComputeTraitRarity(rareQuantile: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { RankColumnName = "RarityScore" }));
        Assert.Throws<InvalidOperationException>(() => ml.Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.Create(["TokenId", "Hat"], [])));
        var twice = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.DiffNft.ComputeTraitRarity().Fit(TextTable.Create(["TokenId", "Hat", "hat "], [["1", "a", "b"]])));
        Assert.Contains("same trait type 'hat'", twice.Message);
    }

    [Fact]
    public void OutputSchemaShapeAndSchemaAgree()
    {
        var ml = new MLContext();
        var view = TextTable.FromTokens(Tokens);
        var estimator = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { ProbabilitiesColumnName = "P" });
        var shape = estimator.GetOutputSchema(ShapeOf(view.Schema));
        var score = shape.Single(c => c.Name == "RarityScore");
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Equal(SchemaShape.Column.VectorKind.Scalar, score.Kind);
        Assert.Equal(NumberDataViewType.Int32, shape.Single(c => c.Name == "RarityRank").ItemType);
        Assert.Equal(BooleanDataViewType.Instance, shape.Single(c => c.Name == "IsRare").ItemType);
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "P").Kind);
        Assert.Contains(shape, c => c.Name == "Hat");

        var schema = estimator.Fit(view).GetOutputSchema(view.Schema);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 4), schema["P"].Type);
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        schema["P"].GetSlotNames(ref names);
        Assert.Equal(["Hat", "Eyes", "Level", "meta_trait:trait_count"], names.DenseValues().Select(n => n.ToString()));
    }

    [Fact]
    public void ProbabilitiesAreTheTraitFrequencies()
    {
        var ml = new MLContext();
        var view = TextTable.FromTokens(Tokens);
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { ProbabilitiesColumnName = "P", UseDoublePrecision = true }).Fit(view);
        var output = rarity.Transform(view);
        var rows = ml.Data.CreateEnumerable<ProbabilityRow>(output, reuseRowObject: false).ToList();
        // Token 3 lacks the hat (null 1/4), has green eyes (1/4), level 3 (3/4), and 2 traits (1/4).
        Assert.Equal([0.25, 0.25, 0.75, 0.25], rows[3].P);
        // Token 0: cap 2/4, blue 3/4, level 3 3/4, 3 traits 3/4; its score is Σ −log2 p / H.
        Assert.Equal([0.5, 0.75, 0.75, 0.75], rows[0].P);
        AssertRelative(rows[0].P.Sum(p => -Math.Log2(p)) / rarity.Table.Entropy, rows[0].RarityScore, 1e-15, "score");
    }

    [Fact]
    public void PredictionEngineScoresOneTokenAtATime()
    {
        var ml = new MLContext();
        var view = ml.Data.LoadFromEnumerable(Tokens.Select(t => new TraitRow { Hat = t.GetValueOrDefault("Hat") ?? "", Eyes = t["Eyes"]!, Level = t["Level"]! }));
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);
        var engine = ml.Model.CreatePredictionEngine<TraitRow, ScoreRow>(rarity);
        var expected = ReadScoresWithoutId(rarity.Transform(view));
        // Twice round, so that a cached row value would show.
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < Tokens.Count; i++)
            {
                var t = Tokens[i];
                var p = engine.Predict(new TraitRow { Hat = t.GetValueOrDefault("Hat") ?? "", Eyes = t["Eyes"]!, Level = t["Level"]! });
                Assert.Equal(expected[i], (p.RarityScore, p.RarityRank, p.IsRare));
            }
    }

    [Fact]
    public void ParallelCursorsGiveTheSameRows()
    {
        var ml = new MLContext();
        var rng = new Random(5);
        var tokens = TraitRarityPropertyTests.RandomCollection(rng, 2000, 5);
        var view = TextTable.FromTokens(tokens).Splitting();
        var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { UseDoublePrecision = true }).Fit(view);
        var output = rarity.Transform(view);
        var serial = ReadScores(output).OrderBy(r => r.TokenId, StringComparer.Ordinal).ToList();

        var cols = new[] { output.Schema["TokenId"], output.Schema["RarityScore"], output.Schema["RarityRank"] };
        var cursors = output.GetRowCursorSet(cols, 2);
        Assert.Equal(2, cursors.Length);
        var parallel = new System.Collections.Concurrent.ConcurrentBag<(string, double, int)>();
        Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var id = cursor.GetGetter<ReadOnlyMemory<char>>(cols[0]);
                var s = cursor.GetGetter<double>(cols[1]);
                var r = cursor.GetGetter<int>(cols[2]);
                ReadOnlyMemory<char> idv = default;
                double sv = 0;
                int rv = 0;
                while (cursor.MoveNext())
                {
                    id(ref idv);
                    s(ref sv);
                    r(ref rv);
                    parallel.Add((idv.ToString(), sv, rv));
                }
            }
        });
        Assert.Equal(serial.Select(r => (r.TokenId, r.Score, r.Rank)), parallel.OrderBy(p => p.Item1, StringComparer.Ordinal));
    }

    // SchemaShape.Create is internal to ML.NET; build the shape column by column.
    private static SchemaShape ShapeOf(DataViewSchema schema) =>
        new(schema.Select(c => SchemaShapeOracle.Column(c.Name, c.Type)));

    [Theory]
    [InlineData(RarityMethod.OpenRarity)]
    [InlineData(RarityMethod.Average)]
    public void FittingFromSplitCursorsLearnsTheSameTable(RarityMethod method)
    {
        var tokens = TraitRarityPropertyTests.RandomCollection(new Random(3), 3000, 6);
        var serialView = TextTable.FromTokens(tokens);
        var splitView = serialView.Splitting();
        Assert.True(splitView.GetRowCursorSet(splitView.Schema, 2).Length == 2);
        var options = new TraitRarityOptions { Method = method, UseDoublePrecision = true };
        var serial = new MLContext().Transforms.DiffNft.ComputeTraitRarity(options).Fit(serialView);
        var split = new MLContext().Transforms.DiffNft.ComputeTraitRarity(options).Fit(splitView);

        using var a = new MemoryStream();
        using var b = new MemoryStream();
        TraitRarityFile.Save(serial, a);
        TraitRarityFile.Save(split, b);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.Equal(ReadScores(serial.Transform(serialView)), ReadScores(split.Transform(serialView)));
    }

    private static List<(double, int, bool)> ReadScoresWithoutId(IDataView view) =>
        new MLContext().Data.CreateEnumerable<ScoreRow>(view, reuseRowObject: false).Select(r => (r.RarityScore, r.RarityRank, r.IsRare)).ToList();

    private sealed class NumericRow
    {
        public string TokenId { get; set; } = "";

        public float Hat { get; set; }
    }

    private sealed class TraitRow
    {
        public string Hat { get; set; } = "";

        public string Eyes { get; set; } = "";

        public string Level { get; set; } = "";
    }

    private sealed class ScoreRow
    {
        public double RarityScore { get; set; }

        public int RarityRank { get; set; }

        public bool IsRare { get; set; }
    }

    private sealed class ProbabilityRow
    {
        public double RarityScore { get; set; }

        public double[] P { get; set; } = [];
    }
}
