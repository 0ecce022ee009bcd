using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Trains the VAE of a latent diffusion model from scratch on a collection's images (<see cref="LatentOptions"/>), and
/// turns images into the scaled latents the UNet trains on. Each step's batch and posterior noise come from a generator
/// seeded by (seed, step) alone, as in <see cref="DiffusionTrainer"/>, so a step budget gives the same VAE every time.
/// </summary>
internal static class VaeTrainer
{
    private const string CheckpointFormat = "diffnft.vae-checkpoint";
    private const int CheckpointVersion = 1;

    /// <summary>Trains a VAE on <paramref name="images"/> ([N, 3, S, S] in [−1, 1]); the caller owns the result.</summary>
    /// <param name="images">The collection's images on the training device.</param>
    /// <param name="options">Architecture and training settings.</param>
    /// <param name="seed">Seed of the initial weights, batches and posterior noise.</param>
    /// <param name="maxTime">Wall-time budget (null: <see cref="LatentOptions.MaxSteps"/> only).</param>
    /// <param name="progress">Receives a report every <paramref name="reportEvery"/> steps (phase "vae").</param>
    /// <param name="reportEvery">Steps between progress reports.</param>
    /// <param name="cancellationToken">Stops training between steps.</param>
    public static AutoencoderKL Train(Tensor images, LatentOptions options, int seed, TimeSpan? maxTime,
        IProgress<DiffusionTrainingProgress>? progress, int reportEvery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var config = options.ToConfig((int)images.shape[2]);
        var vae = TorchRuntime.Seeded(seed, () => new AutoencoderKL(config));
        vae.to(images.device);
        vae.train();
        var adam = new AdamW(vae.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), options.LearningRate, weightDecay: 0);
        try
        {
            var clock = Stopwatch.StartNew();
            long n = images.shape[0];
            int side = (int)images.shape[2], crop = options.CropSize is > 0 && options.CropSize < side ? options.CropSize : side;
            double pixels = images.shape[1] * crop * crop;
            double lossSum = 0;
            int lossCount = 0, step = 0;
            for (; step < options.MaxSteps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (maxTime is { } limit && clock.Elapsed >= limit) break;
                TorchRuntime.FitThreadsToLoad();
                double progressFraction = Math.Max((double)step / options.MaxSteps, maxTime is { } l ? clock.Elapsed / l : 0);
                adam.LearningRate = options.LearningRate * LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, step, 100, progressFraction, 0.05);
                using var scope = NewDisposeScope();
                // Negative step numbers keep these draws apart from the UNet's, which use the same seed.
                using var gen = SeededRandom.Create(DiffusionTrainer.StepSeed(seed, -1 - step));
                var x = Crop(images.index_select(0, SeededRandom.Randint(n, [Math.Min(options.BatchSize, n)], gen, images.device)), options, gen);
                using var posterior = vae.Encode(x);
                var z = posterior.Mean + posterior.Std * SeededRandom.Randn(posterior.Mean.shape, gen, images.device);
                var loss = (vae.Decode(z) - x).abs().mean() + posterior.Kl().mean() * (options.KlWeight / pixels);
                float value = loss.item<float>();
                Divergence.ThrowIfNotFinite(value, "VAE training", step + 1, options.LearningRate, "or check the images");
                adam.ZeroGrad();
                loss.backward();
                adam.ClipGradNorm(1.0);
                adam.StepUpdate();
                lossSum += value;
                lossCount++;
                if ((step + 1) % reportEvery == 0)
                {
                    progress?.Report(new DiffusionTrainingProgress(step + 1, options.MaxSteps, lossSum / lossCount, clock.Elapsed, "vae"));
                    lossSum = 0;
                    lossCount = 0;
                }
            }
            if (lossCount > 0) progress?.Report(new DiffusionTrainingProgress(step, options.MaxSteps, lossSum / lossCount, clock.Elapsed, "vae"));
            vae.eval();
            foreach (var p in vae.parameters()) p.requires_grad_(false);
            return vae;
        }
        catch
        {
            vae.Dispose();
            throw;
        }
        finally
        {
            adam.Dispose();
        }
    }

    /// <summary>One random crop of <see cref="LatentOptions.CropSize"/> for the whole batch, at a multiple of the downscale factor.</summary>
    private static Tensor Crop(Tensor batch, LatentOptions options, Generator gen)
    {
        int side = (int)batch.shape[2], crop = options.CropSize;
        if (crop <= 0 || crop >= side) return batch;
        int f = options.DownscaleFactor;
        using var offsets = SeededRandom.Randint((side - crop) / f + 1, [2], gen, batch.device);
        var o = offsets.cpu().data<long>().ToArray();
        return batch.narrow(2, o[0] * f, crop).narrow(3, o[1] * f, crop);
    }

    /// <summary>The posterior means of <paramref name="images"/>, unscaled, encoded <paramref name="batch"/> at a time.</summary>
    public static Tensor Latents(AutoencoderKL vae, Tensor images, int batch = 32)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parts = images.split(batch, 0).Select(x =>
        {
            using var posterior = vae.Encode(x);
            return posterior.Mode();
        }).ToArray();
        return (parts.Length == 1 ? parts[0] : cat(parts, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The <c>scaling_factor</c> that gives the collection's latents unit standard deviation, as Stable Diffusion's
    /// 0.18215 was measured on its training images.
    /// </summary>
    public static double ScalingFactor(Tensor latents)
    {
        double std = latents.std().item<float>();
        if (!(std > 1e-8) || !double.IsFinite(std))
            throw new InvalidOperationException($"The trained VAE maps every image to the same latent (standard deviation {std}); train it longer or check the images.");
        return 1.0 / std;
    }

    /// <summary>Saves a trained VAE and the settings that made it, atomically, so that a resumed run skips its training.</summary>
    public static void Save(string path, AutoencoderKL vae, string settings)
    {
        var manifest = new Manifest(CheckpointFormat, CheckpointVersion, vae.Config, settings);
        ModelArchive.Write(path, new Dictionary<string, byte[]>
        {
            ["vae.json"] = JsonSerializer.SerializeToUtf8Bytes(manifest, DiffusionModel.JsonOptions),
            ["vae.safetensors"] = ModelArchive.SaveTensors(vae.state_dict()),
        });
    }

    /// <summary>
    /// The VAE saved at <paramref name="path"/> when it exists and was trained with <paramref name="settings"/> (else null:
    /// a VAE of other settings is not this run's); a damaged file is an <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public static AutoencoderKL? TryLoad(string path, string settings, Device device)
    {
        if (!File.Exists(path)) return null;
        var entries = ModelArchive.Read(path);
        Manifest? m;
        try
        {
            m = JsonSerializer.Deserialize<Manifest>(ModelArchive.Require(entries, "vae.json", path), DiffusionModel.JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"VAE checkpoint '{path}': vae.json is not valid ({ex.Message}).", ex);
        }
        if (m is null || m.Format != CheckpointFormat || m.Version != CheckpointVersion || m.Config is null)
            throw new InvalidDataException($"'{path}' is not a version-{CheckpointVersion} DiffNft VAE checkpoint.");
        if (m.Settings != settings) return null;
        AutoencoderKL vae;
        try
        {
            // The config keeps its own Source: it becomes part of the model's options, which a resumed run compares.
            vae = new AutoencoderKL(m.Config);
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException)
        {
            throw new InvalidDataException($"VAE checkpoint '{path}': {ex.Message}", ex);
        }
        ModelArchive.LoadInto(vae, entries, "vae.safetensors", path);
        vae.to(device);
        vae.eval();
        foreach (var p in vae.parameters()) p.requires_grad_(false);
        return vae;
    }

    private sealed record Manifest(string Format, int Version, AutoencoderKLConfig Config, string Settings);
}
