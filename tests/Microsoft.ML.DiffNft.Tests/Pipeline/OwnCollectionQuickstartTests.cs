using System.Text.Json;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Tests.Evaluation;
using Microsoft.ML.DiffNft.Tests.Reporting;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>
/// <c>quickstart --collection</c> on collections made in the test: a folder of 96×64 images with transparent margins
/// (non-square, above the 64-px working limit) through every stage with tiny settings, and bad collections refused at the
/// collection stage, before any training.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class OwnCollectionQuickstartTests(ITestOutputHelper output)
{
    /// <summary>
    /// The trait classifier's synthetic characters (traits readable from the pixels), each 16×16 character enlarged 4× by
    /// nearest neighbour and centred on a transparent 96×64 canvas, written as an OpenSea metadata folder.
    /// </summary>
    private static string WriteCollection(string dir, int count)
    {
        var source = TraitClassifierTestData.Make(count, seed: 9, name: "wide");
        var tokens = source.Tokens.Select(t =>
        {
            var big = t.Image!.ScaleNearest(4);
            var canvas = new RgbaImage(96, 64); // all transparent
            for (int y = 0; y < 64; y++)
                Array.Copy(big.Pixels, 4 * y * 64, canvas.Pixels, 4 * (y * 96 + 16), 4 * 64);
            return new NftToken(t.TokenId, t.Attributes) { Image = canvas };
        }).ToList();
        string path = Path.Combine(dir, "wide");
        NftCollectionWriter.Write(new NftCollection(tokens, "wide"), path);
        return path;
    }

    private static QuickstartOptions Tiny(string collection, string dir) => QuickstartPipelineTests.Tiny(Path.Combine(dir, "qs"), Path.Combine(dir, "cache")) with
    {
        Collection = null,
        CollectionPath = collection,
        FromScratch = false, // implied by CollectionPath
        JudgeTraining = TraitClassifierTestData.Options(epochs: 2),
    };

    [Fact]
    public async Task AFolderOfWideTransparentImagesRunsEveryStageAtItsWorkingSize()
    {
        using var dir = new TempDir();
        string collection = WriteCollection(dir.Path, 40);
        var result = new QuickstartPipeline(Tiny(collection, dir.Path)).Run();
        foreach (var s in result.Stages) output.WriteLine($"{s.Name,-13} {s.Elapsed.TotalSeconds,6:F2} s  {s.Summary}");

        // 96×64 → ÷2 → 48×32 working size (transparency onto white), trained as squares of 48 with 8 rows of padding above and below.
        var c = result[QuickstartStage.Collection];
        Assert.Equal((96, 64, 48, 32, 48), ((int)c.Numbers["source_width"], (int)c.Numbers["source_height"], (int)c.Numbers["width"], (int)c.Numbers["height"], (int)c.Numbers["side"]));
        Assert.Equal(1, c.Numbers["transparent"]);
        var working = PngCodec.Load(Path.Combine(result.Paths.Collection, "images", "0.png"));
        var original = TraitClassifierTestData.Make(40, seed: 9).Tokens[0].Image!.ScaleNearest(2); // the 16×16 art at 32×32
        Assert.Equal((48, 32), (working.Width, working.Height));
        Assert.True(working.Crop(8, 0, 32, 32).PixelEquals(original), "the working image is not the art reduced exactly");
        Assert.Equal(new byte[] { 255, 255, 255, 255 }, working.Pixels[..4]); // a transparent margin became white

        // The judge is a trait classifier trained on the collection; the generated images are cropped back to 48×32 and
        // judged by it, so the rarity metrics are numbers, not null.
        Assert.Equal(1, result[QuickstartStage.Judge].Numbers["trained"]);
        Assert.True(File.Exists(result.Paths.JudgeModel));
        Assert.Equal(48, (int)result[QuickstartStage.BaseModel].Numbers["side"]);
        var generated = PngCodec.Load(Path.Combine(result.Paths.GeneratedTuned, "images", "0.png"));
        Assert.Equal((48, 32), (generated.Width, generated.Height));
        Assert.NotNull(result.BaseMetrics.RareRate);
        Assert.NotNull(result.TunedMetrics.DecodableRate);
        using var report = JsonDocument.Parse(File.ReadAllText(result.Paths.ReportJson));
        var settings = report.RootElement.GetProperty("settings");
        Assert.Equal(Path.GetFullPath(collection), settings.GetProperty("collection").GetProperty("path").GetString());
        Assert.Equal("an nft", settings.GetProperty("generation").GetProperty("prompt").GetString()); // captions were made from traits
        Assert.Contains("trait classifier", File.ReadAllText(result.Paths.ReportHtml));
        if (HeadlessChromium.Available(output))
        {
            // report.html in headless Chromium: the collection's grid shows (its characters' background colours), and so
            // does the fidelity–rarity plot (not white).
            var shot = await HeadlessChromium.ScreenshotAsync(result.Paths.ReportHtml, dir.Path, output);
            var all = HeadlessChromium.Region(shot, 0, 0, shot.Width, shot.Height);
            int art = all.Count(p => TraitClassifierTestData.BackgroundColours.Any(c => HeadlessChromium.Near(p, c)));
            output.WriteLine($"pixels of the characters' backgrounds: {art}");
            Assert.True(art > 3000, $"Only {art} pixels of the collection's background colours: the grids did not render.");
            int plot = HeadlessChromium.Region(shot, 0, 0, 760, 560).Count(p => p.R < 250 || p.G < 250 || p.B < 250);
            Assert.True(plot > 760 * 560 / 50, $"Only {plot} non-white pixels in the plot area.");
        }

        // A rerun skips every stage; touching the collection reruns from the collection stage.
        var again = new QuickstartPipeline(Tiny(collection, dir.Path)).Run();
        Assert.All(again.Stages.Where(s => s.Stage != QuickstartStage.Report), s => Assert.True(s.Skipped, s.Name));
        File.SetLastWriteTimeUtc(Path.Combine(collection, "images", "3.png"), DateTime.UtcNow.AddMinutes(1));
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress<QuickstartProgress>(p =>
        {
            if (p.Stage == QuickstartStage.Collection && p.Kind == QuickstartProgressKind.Completed) cts.Cancel();
        });
        var stopped = Assert.Throws<QuickstartCanceledException>(() =>
            new QuickstartPipeline(Tiny(collection, dir.Path) with { Progress = progress, CancellationToken = cts.Token }).Run());
        Assert.Equal(QuickstartStage.Rarity, stopped.Stage);
    }

    [Fact]
    public void ALatentBaseModelWorksAtTheCollectionsOwnSizeAbove64Pixels()
    {
        using var dir = new TempDir();
        string collection = WriteCollection(dir.Path, 40);
        var tiny = Tiny(collection, dir.Path);
        // A 2× VAE for the test; the Tiny UNet's divisor 4 makes squares of a multiple of 8.
        var latent = new LatentOptions { BlockChannels = [8, 8], Groups = 4, BatchSize = 4, CropSize = 16, MaxSteps = 3 };
        var result = new QuickstartPipeline(tiny with { BaseTraining = tiny.BaseTraining with { Latent = latent } }).Run();
        foreach (var s in result.Stages) output.WriteLine($"{s.Name,-13} {s.Elapsed.TotalSeconds,6:F2} s  {s.Summary}");

        // 96×64 stays 96×64 (a latent model works at up to 128 px), trained as squares of 96.
        var c = result[QuickstartStage.Collection];
        Assert.Equal((96, 64, 96), ((int)c.Numbers["width"], (int)c.Numbers["height"], (int)c.Numbers["side"]));
        Assert.Equal(96, (int)result[QuickstartStage.BaseModel].Numbers["side"]);
        using (var model = DiffusionModel.Load(result.Paths.BaseModel, DiffNftDevice.Cpu))
            Assert.Equal(new long[] { 4, 48, 48 }, model.SampleShape);
        var generated = PngCodec.Load(Path.Combine(result.Paths.GeneratedTuned, "images", "0.png"));
        Assert.Equal((96, 64), (generated.Width, generated.Height));
        Assert.NotNull(result.TunedMetrics.DecodableRate);

        // A latent model is trained, never bundled: asking for one with the bundled models is refused up front.
        var bundled = new QuickstartOptions { OutputDirectory = Path.Combine(dir.Path, "b"), BaseTraining = new DiffusionTrainerOptions { Latent = latent } };
        var ex = Assert.Throws<ArgumentException>(bundled.Validate);
        Assert.Contains("--latent", ex.Message);
        (bundled with { FromScratch = true }).Validate();
    }

    [Fact]
    public void AThousandPixelCollectionIsReducedToItsWorkingSizeBeforeTraining()
    {
        using var dir = new TempDir();
        // 32 tokens of 1000×1000: 16×16 art enlarged 62.5× is not an integer, so draw it at 50×50 first (×20 = 1000).
        var tokens = TraitClassifierTestData.Make(32, seed: 5).Tokens.Select(t =>
            new NftToken(t.TokenId, t.Attributes) { Image = FeatureResample(t.Image!, 50).ScaleNearest(20) }).ToList();
        string path = Path.Combine(dir.Path, "large");
        NftCollectionWriter.Write(new NftCollection(tokens, "large"), path);
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress<QuickstartProgress>(p =>
        {
            if (p.Stage == QuickstartStage.Collection && p.Kind == QuickstartProgressKind.Completed) cts.Cancel();
        });
        var options = Tiny(path, dir.Path) with { SampleCount = 6, Progress = progress, CancellationToken = cts.Token };
        Assert.Throws<QuickstartCanceledException>(() => new QuickstartPipeline(options).Run());
        var working = PngCodec.Load(Path.Combine(dir.Path, "qs", "collection", "images", "7.png"));
        Assert.Equal((50, 50), (working.Width, working.Height));
        Assert.True(working.PixelEquals(FeatureResample(TraitClassifierTestData.Make(32, seed: 5).Tokens[7].Image!, 50)));
    }

    private static RgbaImage FeatureResample(RgbaImage image, int size) => Microsoft.ML.DiffNft.Evaluation.FeatureImageResampler.Resample(image, size);

    [Fact]
    public void AnOutputFolderInsideTheCollectionDoesNotChangeItsFingerprint()
    {
        using var dir = new TempDir();
        string collection = WriteCollection(dir.Path, 32);
        var kinds = new List<(QuickstartStage, QuickstartProgressKind)>();
        QuickstartOptions Run(CancellationTokenSource cts) => Tiny(collection, dir.Path) with
        {
            OutputDirectory = Path.Combine(collection, "out"),
            SampleCount = 6,
            CancellationToken = cts.Token,
            Progress = new SynchronousProgress<QuickstartProgress>(p =>
            {
                kinds.Add((p.Stage, p.Kind));
                if (p.Stage == QuickstartStage.Rarity && p.Kind is QuickstartProgressKind.Completed or QuickstartProgressKind.Skipped) cts.Cancel();
            }),
        };
        using (var cts = new CancellationTokenSource())
            Assert.Throws<QuickstartCanceledException>(() => new QuickstartPipeline(Run(cts)).Run());
        Assert.Contains((QuickstartStage.Collection, QuickstartProgressKind.Completed), kinds);
        kinds.Clear();
        using (var cts = new CancellationTokenSource())
            Assert.Throws<QuickstartCanceledException>(() => new QuickstartPipeline(Run(cts)).Run());
        Assert.Contains((QuickstartStage.Collection, QuickstartProgressKind.Skipped), kinds); // the run's own files did not count
    }

    [Fact]
    public void AMissingCollectionIsNamedAndNothingRuns()
    {
        using var dir = new TempDir();
        string missing = Path.Combine(dir.Path, "no-such-collection");
        var ex = Assert.Throws<FileNotFoundException>(() => new QuickstartPipeline(Tiny(missing, dir.Path)).Run());
        Assert.Contains($"'{missing}' does not exist", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "qs", "collection")));
    }

    public static TheoryData<string, string[]> BadCollections => new()
    {
        { "few", new[] { "has only 10 tokens", "needs at least 32" } },
        { "sizes", new[] { "token '5'", "40×40" } },
        { "missing-image", new[] { "token '4'" } },
        { "constant-trait", new[] { "'Edition' is '1' on all 40 tokens", "remove 'Edition'" } },
        { "no-traits", new[] { "has no traits" } },
    };

    [Theory]
    [MemberData(nameof(BadCollections))]
    public void ABadCollectionIsRefusedBeforeAnyTraining(string kind, string[] expected)
    {
        using var dir = new TempDir();
        var source = TraitClassifierTestData.Make(kind == "few" ? 10 : 40, seed: 2);
        var tokens = source.Tokens.Select((t, i) => new NftToken(t.TokenId,
            kind == "no-traits" ? [] : kind == "constant-trait" ? [.. t.Attributes, new NftAttribute("Edition", "1")] : t.Attributes)
        {
            Image = kind == "sizes" && i == 5 ? new RgbaImage(40, 40) : t.Image,
        }).ToList();
        string path = Path.Combine(dir.Path, kind);
        NftCollectionWriter.Write(new NftCollection(tokens, kind), path);
        if (kind == "missing-image") File.Delete(Path.Combine(path, "images", "4.png"));

        var stages = new List<QuickstartStage>();
        var options = Tiny(path, dir.Path) with
        {
            Progress = new SynchronousProgress<QuickstartProgress>(p => { if (p.Kind == QuickstartProgressKind.Started) stages.Add(p.Stage); }),
        };
        var ex = Assert.ThrowsAny<Exception>(() => new QuickstartPipeline(options).Run());
        output.WriteLine(ex.GetType().Name + ": " + ex.Message);
        Assert.True(ex is InvalidDataException or FileNotFoundException, ex.ToString());
        foreach (string text in expected) Assert.Contains(text, ex.Message);
        Assert.Equal(new[] { QuickstartStage.Collection }, stages); // nothing trained
    }
}
