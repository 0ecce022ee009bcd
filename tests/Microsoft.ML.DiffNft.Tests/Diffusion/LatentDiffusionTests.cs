using System.Text;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

/// <summary>Latent diffusion from scratch: a VAE trained on the collection, the UNet on its latents.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public class LatentDiffusionTests
{
    public LatentDiffusionTests() => TorchRuntime.EnsureLoaded();

    // A 2× VAE small enough for tests: 32×32 blocks become 4 × 16×16 latents, which the Tiny UNet (divisor 4) takes.
    private static LatentOptions TinyVae(int steps) => new()
    {
        BlockChannels = [8, 8], Groups = 4, BatchSize = 8, CropSize = 16, LearningRate = 2e-3, MaxSteps = steps,
    };

    private static DiffusionTrainerOptions TinyLatent(int steps, int vaeSteps = 6, string? checkpoint = null) => new()
    {
        Preset = DiffusionPreset.Tiny, BatchSize = 8, MaxSteps = steps, Seed = 3, Device = DiffNftDevice.Cpu,
        CheckpointPath = checkpoint, ReportEvery = 2, Latent = TinyVae(vaeSteps),
    };

    private static float HeldOutL1(Microsoft.ML.DiffNft.StableDiffusion.Modules.AutoencoderKL vae, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var latents = VaeTrainer.Latents(vae, images);
        using var noGrad = no_grad();
        return (vae.Decode(latents).clamp(-1, 1) - images).abs().mean().item<float>();
    }

    [Fact]
    public void TheVaeLearnsToReconstructHeldOutImagesAndTheSameSeedGivesTheSameVae()
    {
        var (train, _) = DiffusionTrainingTests.Blocks(48, seed: 1);
        var (held, _) = DiffusionTrainingTests.Blocks(16, seed: 2);
        using var x = ImageTensors.ToTensor(train, CPU);
        using var h = ImageTensors.ToTensor(held, CPU);
        using var untrained = VaeTrainer.Train(x, TinyVae(1) with { LearningRate = 1e-9 }, 0, null, null, 10, default);
        using var trained = VaeTrainer.Train(x, TinyVae(300), 0, null, null, 10, default);
        float before = HeldOutL1(untrained, h), after = HeldOutL1(trained, h);
        // Flat blocks of four colours: 300 steps take the error on images it never saw to well under half.
        Assert.True(after < 0.5 * before, $"held-out L1 {before:F3} → {after:F3}");

        using var again = VaeTrainer.Train(x, TinyVae(5), 7, null, null, 10, default);
        using var same = VaeTrainer.Train(x, TinyVae(5), 7, null, null, 10, default);
        var b = same.state_dict();
        foreach (var (k, v) in again.state_dict()) Assert.True(v.eq(b[k]).all().item<bool>(), $"{k} differs between two runs with seed 7");
    }

    [Fact]
    public void ALatentModelGeneratesImagesAtTheCollectionsSizeAndSurvivesSaveAndLoad()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(16);
        using var dir = new TempDir();
        var phases = new List<string>();
        using var model = new DiffusionTrainer(TinyLatent(4) with { Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => phases.Add(p.Phase)) })
            .Train(images, captions);
        Assert.Equal(["vae", "vae", "vae", "unet", "unet"], phases);
        Assert.NotNull(model.Vae);
        Assert.Equal(32, model.ImageSize);
        Assert.Equal(new long[] { 4, 16, 16 }, model.SampleShape);
        Assert.False(model.ClipPredictedSample);
        double scale = model.Options.Vae!.ScalingFactor;
        Assert.True(double.IsFinite(scale) && scale > 0 && scale != 1, $"scaling factor {scale}");

        var path = Path.Combine(dir.Path, "latent.diffnft");
        model.Save(path);
        var entries = ModelArchive.Read(path);
        Assert.Contains(DiffusionModel.VaeEntry, entries.Keys);
        using var loaded = DiffusionModel.Load(path, DiffNftDevice.Cpu);
        var opts = new SamplingOptions { Steps = 3 };
        var x = model.Generate(["a block", captions[0]], [1, 2], opts);
        var y = loaded.Generate(["a block", captions[0]], [1, 2], opts);
        Assert.All(x, i => Assert.Equal((32, 32), (i.Width, i.Height)));
        var sa = model.Vae!.state_dict();
        foreach (var (k, v) in loaded.Vae!.state_dict()) Assert.True(v.eq(sa[k]).all().item<bool>(), $"VAE {k} differs after load");
        var su = model.Network.state_dict();
        foreach (var (k, v) in loaded.Network.state_dict()) Assert.True(v.eq(su[k]).all().item<bool>(), $"UNet {k} differs after load");
        for (int i = 0; i < x.Length; i++) Assert.True(x[i].PixelEquals(y[i]), $"image {i} differs after save and load");

        // α-blending touches the UNet only: α = 0 is the base model, VAE included.
        using var blended = DiffusionModel.Blend(loaded, model, 0.0);
        var z = blended.Generate(["a block", captions[0]], [1, 2], opts);
        for (int i = 0; i < z.Length; i++) Assert.True(z[i].PixelEquals(y[i]), $"image {i} of α = 0 differs from the base model's");
    }

    [Fact]
    public void PixelModelFilesDoNotMentionAVae()
    {
        // Fingerprints of quickstart stages and files written before latent models must not change.
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        using var dir = new TempDir();
        using var model = new DiffusionTrainer(TinyLatent(1) with { Latent = null }).Train(images, captions);
        var path = Path.Combine(dir.Path, "pixel.diffnft");
        model.Save(path);
        var entries = ModelArchive.Read(path);
        Assert.DoesNotContain("\"Vae\"", Encoding.UTF8.GetString(entries[ModelFile.ManifestEntry]));
        Assert.DoesNotContain(DiffusionModel.VaeEntry, entries.Keys);
        Assert.Null(model.Vae);
    }

    [Fact]
    public void ResumingALatentRunReusesItsVaeAndReproducesTheUninterruptedRun()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(16);
        using var dir = new TempDir();
        using var straight = new DiffusionTrainer(TinyLatent(8)).Train(images, captions);

        var ckpt = Path.Combine(dir.Path, "run.ckpt");
        using var cts = new CancellationTokenSource();
        var interrupted = TinyLatent(8, checkpoint: ckpt) with
        {
            CancellationToken = cts.Token,
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => { if (p.Phase == "unet" && p.Step == 4) cts.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => new DiffusionTrainer(interrupted).Train(images, captions));
        Assert.True(File.Exists(ckpt + ".vae"));
        var phases = new List<string>();
        using var resumed = new DiffusionTrainer(TinyLatent(8, checkpoint: ckpt) with
        {
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => phases.Add(p.Phase)),
        }).Train(images, captions);
        Assert.DoesNotContain("vae", phases);
        Assert.Equal(straight.Options.Vae!.ScalingFactor, resumed.Options.Vae!.ScalingFactor);
        foreach (var (name, a, b) in new[] { ("UNet", straight.Network.state_dict(), resumed.Network.state_dict()), ("VAE", straight.Vae!.state_dict(), resumed.Vae!.state_dict()) })
            foreach (var (k, v) in a)
                Assert.True(v.eq(b[k]).all().item<bool>(), $"{name} parameter {k} differs after resume");

        // Other VAE settings are another run: the checkpoint says so rather than resuming it.
        var ex = Assert.Throws<InvalidOperationException>(() =>
            new DiffusionTrainer(TinyLatent(8, vaeSteps: 7, checkpoint: ckpt)).Train(images, captions));
        Assert.Contains("Latent = ", ex.Message);
    }

    [Fact]
    public void DamagedOrInconsistentLatentModelFilesGiveClearErrors()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        using var dir = new TempDir();
        using var model = new DiffusionTrainer(TinyLatent(1, vaeSteps: 1)).Train(images, captions);
        var path = Path.Combine(dir.Path, "m.diffnft");
        model.Save(path);
        ArchiveFuzz.EveryDamagedCopyLoadsOrNamesTheFile(path, 5, bad => DiffusionModel.Load(bad, DiffNftDevice.Cpu));

        var entries = ModelArchive.Read(path);
        var noVae = new Dictionary<string, byte[]>(entries);
        noVae.Remove(DiffusionModel.VaeEntry);
        var missing = Path.Combine(dir.Path, "novae.diffnft");
        ModelArchive.Write(missing, noVae);
        var ex = Assert.Throws<InvalidDataException>(() => DiffusionModel.Load(missing, DiffNftDevice.Cpu));
        Assert.Contains(missing, ex.Message);
        Assert.Contains(DiffusionModel.VaeEntry, ex.Message);

        // A manifest whose UNet does not take the VAE's latents (3 channels against 4) is named before anything is built.
        var manifest = Encoding.UTF8.GetString(entries[ModelFile.ManifestEntry]).Replace("\"ImageChannels\": 4", "\"ImageChannels\": 3");
        var wrong = new Dictionary<string, byte[]>(entries) { [ModelFile.ManifestEntry] = Encoding.UTF8.GetBytes(manifest) };
        var mismatched = Path.Combine(dir.Path, "mismatch.diffnft");
        ModelArchive.Write(mismatched, wrong);
        ex = Assert.Throws<InvalidDataException>(() => DiffusionModel.Load(mismatched, DiffNftDevice.Cpu));
        Assert.Contains("does not denoise the VAE's latents", ex.Message);
    }

    [Fact]
    public void BadLatentSettingsAndSizesAreNamedBeforeTraining()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        var ex = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(TinyLatent(1) with { Latent = TinyVae(1) with { CropSize = 7 } }));
        Assert.Contains("CropSize", ex.Message);
        // 36×36 art with a 4× VAE: the side is not a multiple of 4 × the UNet's divisor.
        var toadz = Collections.CollectionTestData.Cryptoadz.Tokens.Take(4).Select(t => t.Image!).ToList();
        var fourTimes = TinyLatent(1) with { Latent = new LatentOptions { MaxSteps = 1 } };
        ex = Assert.Throws<ArgumentException>(() => new DiffusionTrainer(fourTimes).Train(toadz, ["a toad", "a toad", "a toad", "a toad"]));
        Assert.Contains("latents of 9×9", ex.Message);
    }

    [Fact]
    public void TheFidelityRewardScoresALatentModelsImagesThroughItsVae()
    {
        var (images, captions) = DiffusionTrainingTests.Blocks(8);
        using var model = new DiffusionTrainer(TinyLatent(2, vaeSteps: 2)).Train(images, captions);
        var reward = new DenoisingFidelityReward(model);
        using var x = ImageTensors.ToTensor(images.Take(3).ToList(), CPU).requires_grad_(true);
        using var scores = reward.Score(x);
        Assert.Equal(new long[] { 3 }, scores.shape);
        Assert.True(scores.isfinite().all().item<bool>());
        scores.sum().backward();
        Assert.True(x.grad is { } g && g.abs().sum().item<float>() > 0, "no gradient reached the images through the VAE encoder");
    }
}
