using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Transforms.Image;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

[Collection(TorchGlobalRngCollection.Name)]
public class DiffusionPipelineTests
{
    private sealed class PromptRow
    {
        public string Prompt { get; set; } = "";
        public long Seed { get; set; }
    }

    [Fact]
    public void TrainDiffusionFitsOnACollectionViewAndTheGeneratorAddsMLImages()
    {
        var nouns = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 24, Seed = 2, Parts = NounsSubset.Parse("bodies=3,accessories=3,heads=3,glasses=3") });
        var ml = new MLContext(seed: 1);
        var view = nouns.Collection.ToDataView();
        var estimator = ml.Transforms.DiffNft.TrainDiffusion(
            new DiffusionTrainerOptions { Preset = DiffusionPreset.Tiny, BatchSize = 4, MaxSteps = 3, Device = DiffNftDevice.Cpu },
            new GeneratorOptions { PromptColumnName = "Prompt", Generation = new SamplingOptions { Steps = 3 } });
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Runtime.ChannelMessageKind.Info) messages.Add(e.RawMessage); };
        using var generator = estimator.Fit(view);
        Assert.Contains(messages, m => m.Contains("step 3/3"));

        var prompts = ml.Data.LoadFromEnumerable(new[]
        {
            new PromptRow { Prompt = nouns.Collection.Tokens[0].Caption!, Seed = 5 },
            new PromptRow { Prompt = "a noun", Seed = 6 },
        });
        var output = generator.Transform(prompts);
        var imageColumn = output.Schema["GeneratedImage"];
        Assert.Equal(new ImageDataViewType(32, 32), imageColumn.Type);
        Assert.Equal(generator.GetOutputSchema(prompts.Schema)["GeneratedImage"].Type, imageColumn.Type);

        // Same images as the tensor path for the same prompts and seeds.
        var direct = generator.Model.Generate(new[] { nouns.Collection.Tokens[0].Caption!, "a noun" }, new long[] { 5, 6 }, generator.Options.Generation);
        using (var cursor = output.GetRowCursor(new[] { imageColumn }))
        {
            var getter = cursor.GetGetter<MLImage>(imageColumn);
            MLImage img = null!;
            int i = 0;
            while (cursor.MoveNext())
            {
                getter(ref img);
                Assert.True(img.ToRgbaImage().PixelEquals(direct[i++]));
            }
            Assert.Equal(2, i);
        }

        // ML.NET's image transforms compose with the generated column.
        var pixels = ml.Transforms.ExtractPixels("Pixels", "GeneratedImage").Fit(output).Transform(output);
        var vectors = pixels.GetColumn<float[]>("Pixels").ToList();
        Assert.Equal(2, vectors.Count);
        Assert.Equal(3 * 32 * 32, vectors[0].Length);
    }

    private static SchemaShape Shape(DataViewSchema schema) => new(schema.Select(c => SchemaShapeOracle.Column(c.Name, c.Type)));

    [Fact]
    public void MissingOrMistypedPromptColumnsGiveMLNetStyleErrors()
    {
        var ml = new MLContext(seed: 1);
        // The estimator checks what Fit reads (image, caption) and what the generator reads (prompt: the caption by default).
        var estimator = ml.Transforms.DiffNft.TrainDiffusion(new DiffusionTrainerOptions { Preset = DiffusionPreset.Tiny });
        var noCaption = ml.Data.LoadFromEnumerable(new[] { new { Image = "x.png", Other = "x" } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(noCaption.Schema)));
        Assert.Contains("Could not find caption column 'Caption'", ex.Message);
        var wrong = ml.Data.LoadFromEnumerable(new[] { new { Image = "x.png", Caption = 3f } });
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(wrong.Schema)));
        Assert.Contains("Schema mismatch for caption column 'Caption'", ex.Message);
        var captions = ml.Data.LoadFromEnumerable(new[] { new { Image = "x.png", Caption = "a noun" } });
        Assert.Contains(estimator.GetOutputSchema(Shape(captions.Schema)), c => c.Name == "GeneratedImage");

        // A prompt column of its own is checked too, beside the training columns.
        var withPrompt = ml.Transforms.DiffNft.TrainDiffusion(new DiffusionTrainerOptions { Preset = DiffusionPreset.Tiny }, new GeneratorOptions { PromptColumnName = "Prompt" });
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => withPrompt.GetOutputSchema(Shape(captions.Schema)));
        Assert.Contains("Could not find prompt column 'Prompt'", ex.Message);
        var mistyped = ml.Data.LoadFromEnumerable(new[] { new { Image = "x.png", Caption = "a noun", Prompt = 3f } });
        ex = Assert.Throws<ArgumentOutOfRangeException>(() => withPrompt.GetOutputSchema(Shape(mistyped.Schema)));
        Assert.Contains("Schema mismatch for prompt column 'Prompt'", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.DiffNft.TrainDiffusion(new DiffusionTrainerOptions { BatchSize = 0 }));
    }

    [Fact]
    public void TheGeneratorRefusesMLNetModelSaveAndNamesTheWayThatWorks()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        var ml = new MLContext(seed: 1);
        using var model = new DiffusionTrainer(new DiffusionTrainerOptions { Preset = DiffusionPreset.Tiny, BatchSize = 4, MaxSteps = 1, Device = DiffNftDevice.Cpu }).Train(images, captions);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.diffnft");
        model.Save(path);
        using var generator = ml.Transforms.DiffNft.LoadDiffusionGenerator(path, new GeneratorOptions { Device = DiffNftDevice.Cpu });
        var prompts = ml.Data.LoadFromEnumerable(new[] { new PromptRow { Prompt = "a block" } });
        var ex = Assert.Throws<NotSupportedException>(() => ml.Model.Save(generator, prompts.Schema, Path.Combine(dir.Path, "x.zip")));
        Assert.Contains("mlContext.Model.SaveDiffNft", ex.Message);
    }
}
