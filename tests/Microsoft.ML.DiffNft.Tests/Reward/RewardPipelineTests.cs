using System.Globalization;
using DiffNft.Cli;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reward;

/// <summary>The reward through <c>mlContext.Transforms.DiffNft</c> and through the CLI.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public class RewardPipelineTests
{
    private static SchemaShape Shape(DataViewSchema schema) => new(schema.Select(c => SchemaShapeOracle.Column(c.Name, c.Type)));

    [Fact]
    public void RarityThenRewardComposeAsAnMLNetPipeline()
    {
        var ml = new MLContext(seed: 2);
        var view = RewardTestData.Make(80, seed: 3).Collection.ToDataView();
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Info) messages.Add(e.RawMessage); };
        var pipeline = ml.Transforms.DiffNft.ComputeTraitRarity()
            .Append(ml.Transforms.DiffNft.TrainRarityReward(RewardTestData.Options(steps: 10) with { EvaluateEvery = 5, ReportEvery = 5 }));
        var expected = pipeline.GetOutputSchema(Shape(view.Schema));
        var model = pipeline.Fit(view);
        Assert.Contains(messages, m => m.Contains("step 10/10"));
        Assert.Contains(messages, m => m.Contains("Validation (16 tokens)"));

        var scored = model.Transform(view);
        foreach (var name in new[] { "RarityReward", "RareProbability", "Embedding" })
        {
            var shape = expected.First(c => c.Name == name);
            Assert.Equal(shape.ItemType, scored.Schema[name].Type is VectorDataViewType v ? v.ItemType : scored.Schema[name].Type);
        }
        var probabilities = scored.GetColumn<float>("RareProbability").ToArray();
        Assert.Equal(80, probabilities.Length);
        Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));

        var scorer = model.LastTransformer;
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "r.diffnft-reward");
        var ex = Assert.Throws<NotSupportedException>(() => ml.Model.Save(scorer, view.Schema, Path.Combine(dir.Path, "x.zip")));
        Assert.Contains("mlContext.Model.SaveDiffNft", ex.Message);
        scorer.Save(path);
        using var loaded = ml.Transforms.DiffNft.LoadRarityReward(path, new RarityRewardScorerOptions { Device = DiffNftDevice.Cpu, RewardColumnName = "R" });
        Assert.Equal(scored.GetColumn<float>("RarityReward"), loaded.Transform(view).GetColumn<float>("R"));
        scorer.Dispose();
    }

    [Fact]
    public void MissingOrMistypedColumnsGiveMLNetStyleErrors()
    {
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.DiffNft.TrainRarityReward();
        var noScore = ml.Data.LoadFromEnumerable(new[] { new { Image = "a.png", IsRare = true } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(noScore.Schema)));
        Assert.Contains("Could not find rarity score column 'RarityScore'", ex.Message);
        var wrong = ml.Data.LoadFromEnumerable(new[] { new { Image = "a.png", RarityScore = 1f, IsRare = 1f } });
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(wrong.Schema)));
        Assert.Contains("Schema mismatch for rare flag column 'IsRare'", ex.Message);
        var noImage = ml.Data.LoadFromEnumerable(new[] { new { RarityScore = 1f, IsRare = true } });
        Assert.Contains("Could not find image column 'Image'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(noImage)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.TrainRarityReward(new RarityRewardTrainerOptions { BatchSize = 0 }));
    }

    [Fact]
    public void TrainRewardAndScoreCommandsWriteModelMetricsAndCsv()
    {
        using var dir = new TempDir();
        var data = RewardTestData.Make(60, seed: 5);
        var collectionDir = Path.Combine(dir.Path, "nouns");
        NftCollectionWriter.Write(data.Collection, collectionDir);
        var outDir = Path.Combine(dir.Path, "reward") + "/";
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int rc = CliApp.Run(new[] { "train-reward", "--collection", collectionDir, "--preset", "tiny", "--steps", "10", "--out", outDir }, stdout, stderr);
        Assert.True(rc == 0, stderr.ToString());
        var modelPath = Path.Combine(outDir, "model.diffnft-reward");
        Assert.True(File.Exists(modelPath));
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json"))))
        {
            foreach (var key in new[] { "spearman", "pearson", "auc", "accuracy", "precision", "recall", "n_validation" })
                Assert.True(doc.RootElement.TryGetProperty(key, out _), $"metrics.json lacks '{key}'");
            Assert.Equal(12, doc.RootElement.GetProperty("n_validation").GetInt32());
        }

        var csvPath = Path.Combine(dir.Path, "scores.csv");
        rc = CliApp.Run(new[] { "score", "--reward", outDir, "--images", collectionDir, "--out", csvPath }, stdout, stderr);
        Assert.True(rc == 0, stderr.ToString());
        var lines = File.ReadAllLines(csvPath);
        Assert.Equal("file,reward,rare_probability", lines[0]);
        Assert.Equal(61, lines.Length);
        Assert.Equal(new[] { "0.png", "1.png", "2.png" }, lines.Skip(1).Take(3).Select(l => l.Split(',')[0]));
        using var model = RarityRewardModel.Load(modelPath, DiffNftDevice.Cpu);
        var direct = model.Predict(new[] { PngCodec.Load(Path.Combine(collectionDir, "images", "2.png")) });
        var row = lines[3].Split(',');
        // One image alone and the same image in a batch of 60 agree to float rounding.
        Assert.Equal(direct.Rewards[0], float.Parse(row[1], CultureInfo.InvariantCulture), 4);
        Assert.Equal(direct.RareProbabilities[0], float.Parse(row[2], CultureInfo.InvariantCulture), 4);

        // Bad input: one line on stderr, exit code 1.
        var err = new StringWriter();
        rc = CliApp.Run(new[] { "score", "--reward", Path.Combine(dir.Path, "missing.diffnft-reward"), "--images", collectionDir, "--out", csvPath }, stdout, err);
        Assert.Equal(1, rc);
        Assert.Contains("missing.diffnft-reward", err.ToString());
    }
}
