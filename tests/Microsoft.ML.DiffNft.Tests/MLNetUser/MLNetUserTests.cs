using System.Diagnostics;
using DiffNft.Cli;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Runtime;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.MLNetUser;

/// <summary>
/// What an ML.NET user does with the DiffNft estimators: chains with ML.NET's own transforms and trainers, previews,
/// lazy transforms, context seeds, <c>CancelExecution</c>, and the messages a C# caller reads. Tiny models throughout.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public class MLNetUserTests
{
    private const string Parts = "bodies=3,accessories=3,heads=3,glasses=3";

    private static readonly Lazy<NftCollection> s_small = new(() => Nouns(48, seed: 2));
    private static readonly Lazy<NftCollection> s_large = new(() => Nouns(400, seed: 3, "bodies=4,accessories=5,heads=5,glasses=4"));

    private static NftCollection Nouns(int count, int seed, string parts = Parts) =>
        NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = count, Seed = seed, Parts = NounsSubset.Parse(parts) }).Collection;

    private static DiffusionTrainerOptions TinyDiffusion(int steps = 2) =>
        new() { Preset = DiffusionPreset.Tiny, BatchSize = 4, MaxSteps = steps, WarmupSteps = 0, Device = DiffNftDevice.Cpu, ReportEvery = 1 };

    private static RarityRewardTrainerOptions TinyReward(int steps = 3) =>
        new() { Preset = VitPreset.Tiny, BatchSize = 8, MaxSteps = steps, WarmupSteps = 0, EvaluateEvery = steps, Device = DiffNftDevice.Cpu, ReportEvery = steps };

    private static GeneratorOptions Sampling(int batchSize = 4, string? promptColumn = null) =>
        new() { PromptColumnName = promptColumn, Generation = new SamplingOptions { Steps = 2, BatchSize = batchSize } };

    private static SchemaShape Shape(DataViewSchema schema) => new(schema.Select(c => SchemaShapeOracle.Column(c.Name, c.Type)));

    private static string[] TraitColumns(IDataView view) =>
        view.Schema.Where(c => c.Type is TextDataViewType && c.Name is not (NftSchema.TokenIdColumnName or NftSchema.CaptionColumnName)).Select(c => c.Name).ToArray();

    private sealed class PromptRow
    {
        public string Prompt { get; set; } = "";
    }

    [Fact]
    public void RarityKeysDiffusionRewardAndSdcaChainFitsPreviewsAndTransforms()
    {
        var ml = new MLContext(seed: 1);
        var view = s_small.Value.ToDataView();
        var traits = TraitColumns(view);
        var pipeline = ml.Transforms.DiffNft.ComputeTraitRarity()
            .Append(ml.Transforms.Conversion.MapValueToKey(traits.Select(t => new InputOutputColumnPair(t + "Key", t)).ToArray()))
            .Append(ml.Transforms.DiffNft.TrainDiffusion(TinyDiffusion(), Sampling()))
            .Append(ml.Transforms.DiffNft.TrainRarityReward(TinyReward()))
            .Append(ml.Transforms.Conversion.MapKeyToVector(traits.Select(t => new InputOutputColumnPair(t + "OneHot", t + "Key")).ToArray()))
            .Append(ml.Transforms.Concatenate("Features", traits.Select(t => t + "OneHot").ToArray()))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "IsRare", featureColumnName: "Features", maximumNumberOfIterations: 3));

        var shape = pipeline.GetOutputSchema(Shape(view.Schema));
        foreach (var name in new[] { "Image", "GeneratedImage", "RarityReward", "PredictedLabel" })
            Assert.Contains(shape, c => c.Name == name);

        var model = pipeline.Fit(view);
        var generator = model.OfType<DiffusionGeneratorTransformer>().Single();
        var scorer = model.OfType<RarityRewardScorerTransformer>().Single();
        // Fitting the chain read neither the generated images nor the rewards: nothing was generated or scored.
        Assert.Equal(0, generator.GeneratedImageCount);
        Assert.Equal(0, scorer.ScoredImageCount);
        Assert.Equal("Caption", generator.Options.PromptColumnName);

        var output = model.Transform(view);
        // The collection's images pass through beside the generated ones, so the reward trained on them.
        Assert.True(output.GetColumn<MLImage>("Image").First().ToRgbaImage().PixelEquals(s_small.Value.Tokens[0].Image!));

        var preview = output.Preview(2);
        Assert.Equal(2, preview.RowView.Length);
        Assert.Equal(4, generator.GeneratedImageCount);
        Assert.Contains(preview.ColumnView, c => c.Column.Name == "GeneratedImage");
        Assert.Contains(preview.ColumnView, c => c.Column.Name == "PredictedLabel");

        var predicted = output.GetColumn<bool>("PredictedLabel").ToList();
        Assert.Equal(48, predicted.Count);
        Assert.Equal(4, generator.GeneratedImageCount);
        var rewards = output.GetColumn<float>("RarityReward").ToList();
        Assert.Equal(48, rewards.Count);
        Assert.All(rewards, r => Assert.True(float.IsFinite(r)));
    }

    [Fact]
    public void GeneratorTransformIsLazyAndTakeRowsGeneratesOneBatch()
    {
        var ml = new MLContext(seed: 1);
        using var trained = ml.Transforms.DiffNft.TrainDiffusion(TinyDiffusion(steps: 1)).Fit(s_small.Value.ToDataView());
        using var generator = trained.WithOptions(Sampling(batchSize: 8, promptColumn: "Prompt"));
        var prompts = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 400).Select(i => new PromptRow { Prompt = i % 2 == 0 ? "a noun" : "a noun, head cat" }).ToList());
        generator.Transform(ml.Data.TakeRows(prompts, 1)); // warms up the JIT, not the model

        var clock = Stopwatch.StartNew();
        var output = generator.Transform(prompts);
        clock.Stop();
        Assert.Equal(0, generator.GeneratedImageCount);
        Assert.True(clock.ElapsedMilliseconds < 50, $"Transform took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(400, output.GetRowCount());

        // A cursor without the image column generates nothing.
        Assert.Equal(400, output.GetColumn<string>("Prompt").Count());
        Assert.Equal(0, generator.GeneratedImageCount);

        var first = ml.Data.TakeRows(output, 1).GetColumn<MLImage>("GeneratedImage").ToList();
        Assert.Single(first);
        Assert.Equal(8, generator.GeneratedImageCount);
        output.Preview(3);
        Assert.Equal(8, generator.GeneratedImageCount);

        // The lazy images are the eager ones: each depends only on its prompt and seed (Seed + row).
        var rows = output.GetColumn<MLImage>("GeneratedImage").Take(10).Select(i => i.ToRgbaImage()).ToList();
        Assert.Equal(16, generator.GeneratedImageCount);
        var seeds = Enumerable.Range(0, 10).Select(i => (long)generator.Options.Seed!.Value + i).ToList();
        var direct = generator.Model.Generate(prompts.GetColumn<string>("Prompt").Take(10).ToList(), seeds, generator.Options.Generation);
        for (int i = 0; i < 10; i++) Assert.True(rows[i].PixelEquals(direct[i]), $"row {i}");
    }

    [Fact]
    public void RewardScorerTransformIsLazy()
    {
        var ml = new MLContext(seed: 1);
        var small = s_small.Value.ToDataView();
        using var scorer = ml.Transforms.DiffNft.ComputeTraitRarity().Append(ml.Transforms.DiffNft.TrainRarityReward(TinyReward())).Fit(small).LastTransformer;
        scorer.Model.BatchSize = 16;
        var images = s_large.Value.ToDataView();

        var clock = Stopwatch.StartNew();
        var output = scorer.Transform(images);
        clock.Stop();
        Assert.Equal(0, scorer.ScoredImageCount);
        Assert.True(clock.ElapsedMilliseconds < 50, $"Transform took {clock.ElapsedMilliseconds} ms");

        var first = ml.Data.TakeRows(output, 1).GetColumn<float>("RarityReward").ToList();
        Assert.Single(first);
        Assert.Equal(16, scorer.ScoredImageCount);
        var all = output.GetColumn<float>("RarityReward").ToList();
        Assert.Equal(400, all.Count);
        Assert.Equal(400, scorer.ScoredImageCount);
        var eager = scorer.Model.Predict(s_large.Value.Tokens.Select(t => t.Image!).ToList());
        Assert.Equal(eager.Rewards, all);
    }

    [Fact]
    public void TheContextSeedDecidesTrainingAndGenerationWhenTheOptionsLeaveItUnset()
    {
        var view = s_small.Value.ToDataView();
        (float[] Weights, RgbaImage Image, float[] Rewards) Run(int contextSeed)
        {
            var ml = new MLContext(seed: contextSeed);
            using var generator = ml.Transforms.DiffNft.TrainDiffusion(TinyDiffusion(), Sampling(batchSize: 1)).Fit(view);
            var image = generator.Transform(view).GetColumn<MLImage>("GeneratedImage").First().ToRgbaImage();
            var weights = generator.Model.Denoiser.parameters().First().detach().flatten().data<float>().ToArray();
            using var scorer = ml.Transforms.DiffNft.ComputeTraitRarity().Append(ml.Transforms.DiffNft.TrainRarityReward(TinyReward())).Fit(view).LastTransformer;
            var rewards = scorer.Model.Predict(s_small.Value.Tokens.Take(4).Select(t => t.Image!).ToList()).Rewards;
            return (weights, image, rewards);
        }

        var a = Run(1);
        var b = Run(1);
        var c = Run(2);
        Assert.Equal(a.Weights, b.Weights);
        Assert.True(a.Image.PixelEquals(b.Image));
        Assert.Equal(a.Rewards, b.Rewards);
        Assert.NotEqual(a.Weights, c.Weights);
        Assert.False(a.Image.PixelEquals(c.Image));
        Assert.NotEqual(a.Rewards, c.Rewards);
    }

    [Fact]
    public void GenerationSeedComesFromTheContextAndAnExplicitSeedWins()
    {
        var view = s_small.Value.ToDataView();
        using var trained = new MLContext(seed: 1).Transforms.DiffNft.TrainDiffusion(TinyDiffusion(steps: 1)).Fit(view);
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "g.diffnft");
        trained.Save(path);
        int SeedOf(int contextSeed, int? optionSeed)
        {
            using var g = new MLContext(seed: contextSeed).Transforms.DiffNft.LoadDiffusionGenerator(path, new GeneratorOptions { Seed = optionSeed, Device = DiffNftDevice.Cpu });
            return g.Options.Seed!.Value;
        }

        Assert.Equal(SeedOf(1, null), SeedOf(1, null));
        Assert.NotEqual(SeedOf(1, null), SeedOf(2, null));
        Assert.Equal(7, SeedOf(2, 7));
    }

    [Fact]
    public void CancelExecutionStopsTraining()
    {
        // MLContext.CancelExecution() is internal in ML.NET 5 (AutoML calls it); invoke it as AutoML would.
        var ml = new MLContext(seed: 1);
        var cancel = typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        int lastStep = 0;
        var options = TinyDiffusion(steps: 100_000) with
        {
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p =>
            {
                lastStep = p.Step;
                if (p.Step == 2) cancel.Invoke(ml, null);
            }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => ml.Transforms.DiffNft.TrainDiffusion(options).Fit(s_small.Value.ToDataView()));
        Assert.InRange(lastStep, 2, 99_999);
    }

    [Fact]
    public void MessagesNameOptionsAndColumnsNotCommandLineFlags()
    {
        var ml = new MLContext(seed: 1);
        var reference = s_small.Value;
        var ex = Assert.Throws<ArgumentException>(() => ml.NftGeneration.Evaluate(reference.Tokens.Take(2).Select(t => t.Image!).ToList(), reference,
            new NftGenerationEvaluatorOptions { SampleSize = 10 }));
        Assert.Contains("NftGenerationEvaluatorOptions.SampleSize", ex.Message);
        Assert.DoesNotContain("--", ex.Message);
        Assert.Contains("NftGenerationEvaluatorOptions.SampleSize (--n)", CliMessages.Translate(ex.Message));

        // A text column that holds no paths: the error names the column.
        var view = reference.ToDataView();
        var notPaths = Assert.Throws<InvalidDataException>(() => ml.Transforms.DiffNft.TrainDiffusion(TinyDiffusion() with { ImageColumnName = "TokenId" }).Fit(view));
        Assert.Contains("image column 'TokenId'", notPaths.Message);

        // Automatic trait detection says which non-text columns it skipped.
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) warnings.Add(e.RawMessage); };
        var mixed = ml.Data.LoadFromEnumerable(new[] { new { Hat = "red", Size = 3f }, new { Hat = "blue", Size = 4f } });
        ml.Transforms.DiffNft.ComputeTraitRarity().Fit(mixed);
        Assert.Contains(warnings, w => w.Contains("'Size' (Single)"));
        var keys = ml.Transforms.Conversion.MapValueToKey("Hat").Fit(mixed).Transform(mixed);
        var none = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.ComputeTraitRarity().Fit(keys));
        Assert.Contains("'Hat' (Key", none.Message);
    }
}
