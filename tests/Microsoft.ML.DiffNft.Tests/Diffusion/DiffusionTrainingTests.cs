using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

[Collection(TorchGlobalRngCollection.Name)]
public class DiffusionTrainingTests
{
    // Small flat-colour pixel art with a caption that names its colours: enough structure to learn, cheap to make.
    internal static (RgbaImage[] Images, string[] Captions) Blocks(int count, int seed = 1)
    {
        var colors = new (string Name, byte R, byte G, byte B)[] { ("red", 220, 40, 40), ("blue", 40, 60, 220), ("green", 40, 200, 80), ("yellow", 230, 220, 40) };
        var rng = new Random(seed);
        var images = new RgbaImage[count];
        var captions = new string[count];
        for (int i = 0; i < count; i++)
        {
            var bg = colors[rng.Next(colors.Length)];
            var fg = colors[rng.Next(colors.Length)];
            var img = new RgbaImage(32, 32);
            img.Fill(bg.R, bg.G, bg.B);
            int x0 = rng.Next(4, 12), y0 = rng.Next(4, 12);
            for (int y = y0; y < y0 + 14; y++)
                for (int x = x0; x < x0 + 14; x++)
                    img.SetPixel(x, y, fg.R, fg.G, fg.B);
            images[i] = img;
            captions[i] = $"a block, background {bg.Name}, square {fg.Name}";
        }
        return (images, captions);
    }

    private static DiffusionTrainerOptions Tiny(int steps, string? checkpoint = null, int every = 0) => new()
    {
        Preset = DiffusionPreset.Tiny, BatchSize = 8, MaxSteps = steps, Seed = 3, Device = DiffNftDevice.Cpu,
        CheckpointPath = checkpoint, CheckpointEvery = every, ReportEvery = 5,
    };

    [Fact]
    public void APresetTrainsAtTheCollectionsOwnSizeAndSaysWhichSizesItCannotTake()
    {
        // CrypToadz' real 36×36 art (tests/data/cryptoadz) with captions built from its traits: no resizing, no padding.
        var toadz = Collections.CollectionTestData.Cryptoadz.Tokens.Take(16).ToList();
        var images = toadz.Select(t => t.Image!).ToList();
        var captions = toadz.Select(t => Microsoft.ML.DiffNft.Collections.NftCaptions.FromTraits(t, "a toad")).ToList();
        Assert.All(images, i => Assert.Equal((36, 36), (i.Width, i.Height)));
        using var model = new DiffusionTrainer(Tiny(2)).Train(images, captions);
        Assert.Equal(36, model.Options.UNet.ImageSize);
        var generated = model.Generate(["a toad"], [1], new SamplingOptions { Steps = 2 });
        Assert.Equal((36, 36), (generated[0].Width, generated[0].Height));

        // The base preset's patches and levels need sides divisible by 8: the message names the preset, the size and the way out.
        var ex = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(Tiny(2) with { Preset = DiffusionPreset.Base }).Train(images, captions));
        Assert.Contains("The Base preset cannot train on the collection's 36×36 images", ex.Message);
        Assert.Contains("divisible by 8", ex.Message);
    }

    [Fact]
    public void ResumingFromACheckpointReproducesTheUninterruptedRunExactly()
    {
        var (images, captions) = Blocks(16);
        using var dir = new TempDir();
        using var straight = new DiffusionTrainer(Tiny(12)).Train(images, captions);

        // Interrupt the same run (same options, so the same learning-rate schedule) after 5 steps, as Ctrl+C would.
        var ckpt = Path.Combine(dir.Path, "run.ckpt");
        using var cts = new CancellationTokenSource();
        var interrupted = Tiny(12, ckpt) with
        {
            CancellationToken = cts.Token,
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => { if (p.Step == 5) cts.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => new DiffusionTrainer(interrupted).Train(images, captions));
        Assert.True(File.Exists(ckpt));
        using var resumed = new DiffusionTrainer(Tiny(12, ckpt)).Train(images, captions);

        var a = straight.Network.state_dict();
        var b = resumed.Network.state_dict();
        foreach (var (k, v) in a)
            Assert.True(v.eq(b[k]).all().item<bool>(), $"parameter {k} differs after resume");
    }

    [Theory]
    [InlineData("LearningRate")]
    [InlineData("BatchSize")]
    [InlineData("MinSnrGamma")]
    [InlineData("EmaDecay")]
    [InlineData("Schedule")]
    [InlineData("MaxSteps")]
    public void ResumingWithAnotherSettingIsAnErrorNamingIt(string setting)
    {
        // Before, only the seed and the architecture were compared: another learning rate, batch, Min-SNR, EMA or schedule
        // resumed the old run and "wrote" a model byte-identical to the old one.
        var (images, captions) = Blocks(16);
        using var dir = new TempDir();
        var ckpt = Path.Combine(dir.Path, "run.ckpt");
        using (new DiffusionTrainer(Tiny(4, ckpt)).Train(images, captions)) { }
        var changed = setting switch
        {
            "LearningRate" => Tiny(4, ckpt) with { LearningRate = 2e-3 },
            "BatchSize" => Tiny(4, ckpt) with { BatchSize = 4 },
            "MinSnrGamma" => Tiny(4, ckpt) with { MinSnrGamma = 1 },
            "EmaDecay" => Tiny(4, ckpt) with { EmaDecay = 0.9 },
            "Schedule" => Tiny(4, ckpt) with { Schedule = NoiseScheduleKind.Cosine },
            _ => Tiny(5, ckpt),
        };
        var ex = Assert.Throws<InvalidOperationException>(() => new DiffusionTrainer(changed).Train(images, captions));
        Assert.Contains($"{setting} = ", ex.Message);
        Assert.Contains(ckpt, ex.Message);
        // The same settings resume (here: the run is already complete, so nothing more is trained).
        using var same = new DiffusionTrainer(Tiny(4, ckpt)).Train(images, captions);
    }

    [Fact]
    public void SaveAndLoadGiveIdenticalImagesForTheSameSeeds()
    {
        var (images, captions) = Blocks(16);
        using var dir = new TempDir();
        using var model = new DiffusionTrainer(Tiny(5)).Train(images, captions);
        var path = Path.Combine(dir.Path, "m.diffnft");
        model.Save(path);
        using var loaded = DiffusionModel.Load(path, DiffNftDevice.Cpu);
        var opts = new SamplingOptions { Steps = 4, GuidanceScale = 2 };
        var prompts = new[] { captions[0], captions[1], "a block" };
        var seeds = new long[] { 1, 2, 3 };
        var x = model.Generate(prompts, seeds, opts);
        var y = loaded.Generate(prompts, seeds, opts);
        for (int i = 0; i < x.Length; i++) Assert.True(x[i].PixelEquals(y[i]));
    }

    [Fact]
    public void ImagesDependOnlyOnTheirSeedNotOnTheBatch()
    {
        var (images, captions) = Blocks(8);
        using var model = new DiffusionTrainer(Tiny(2)).Train(images, captions);
        var opts = new SamplingOptions { Steps = 3, Eta = 1.0, BatchSize = 3 };
        var all = model.Generate(new[] { "a", "b", "c", "d" }, new long[] { 10, 11, 12, 13 }, opts);
        var one = model.Generate(new[] { "c" }, new long[] { 12 }, opts with { BatchSize = 1 });
        Assert.True(all[2].PixelEquals(one[0]));
        Assert.False(all[0].PixelEquals(all[1]));
    }

    [Fact]
    public void CorruptedOrTruncatedModelFilesGiveClearErrors()
    {
        var (images, captions) = Blocks(8);
        using var dir = new TempDir();
        using var model = new DiffusionTrainer(Tiny(1)).Train(images, captions);
        var path = Path.Combine(dir.Path, "m.diffnft");
        model.Save(path);
        ArchiveFuzz.EveryDamagedCopyLoadsOrNamesTheFile(path, 7, bad => DiffusionModel.Load(bad, DiffNftDevice.Cpu));
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "diffnft-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}

[Collection(TorchGlobalRngCollection.Name)]
public class DiffusionLearningTests
{
    [Fact]
    public void TinyPresetLossAtLeastHalvesOn64BuiltInTokens()
    {
        var generated = Microsoft.ML.DiffNft.Collections.Nouns.NounsCollectionGenerator.GenerateDetailed(new Microsoft.ML.DiffNft.Collections.Nouns.NounsCollectionOptions
        {
            Count = 64, Seed = 7, Parts = Microsoft.ML.DiffNft.Collections.Nouns.NounsSubset.Parse("bodies=4,accessories=4,heads=4,glasses=4"),
        });
        var tokens = generated.Collection.Tokens;
        var losses = new List<double>();
        var options = new DiffusionTrainerOptions
        {
            Preset = DiffusionPreset.Tiny, BatchSize = 16, MaxSteps = 150, Seed = 1, Device = DiffNftDevice.Cpu, ReportEvery = 5,
            LearningRate = 3e-3, Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => losses.Add(p.Loss)),
        };
        using var model = new DiffusionTrainer(options).Train(tokens.Select(t => t.Image!).ToList(), tokens.Select(t => t.Caption!).ToList());
        Console.WriteLine("losses: " + string.Join(" ", losses.Select(l => l.ToString("F4"))));
        Assert.True(losses.Count >= 6);
        double first = losses[0], last = losses.TakeLast(3).Average();
        Assert.True(last <= first / 2, $"loss went from {first:F4} to {last:F4}; expected at least a halving");
    }

}
