using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Trains a <see cref="DiffusionModel"/> on images and captions: DDPM with v- (default) or ε-prediction, classifier-free
/// guidance dropout, AdamW with gradient clipping, an EMA of the weights, atomic checkpoints and bit-exact resume.
/// </summary>
/// <remarks>
/// Every random draw of step s comes from a generator seeded by (Seed, s) alone, so a run resumed at step s draws
/// exactly what the uninterrupted run drew: no generator state needs saving, and resume is exact by construction.
/// </remarks>
internal sealed class DiffusionTrainer
{
    private const string CheckpointFormat = "diffnft.diffusion-checkpoint";
    private readonly DiffusionTrainerOptions _options;
    private Func<TimeSpan> _elapsed = () => TimeSpan.Zero;
    // The UNet's share of MaxTime: all of it for a pixel model; what the VAE leaves for a latent one.
    private TimeSpan? _unetTime;

    /// <summary>Creates a trainer.</summary>
    public DiffusionTrainer(DiffusionTrainerOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>
    /// Trains on images (one size, square) and their captions; returns the EMA model. With
    /// <see cref="DiffusionTrainerOptions.Latent"/> the VAE is trained first (or read back from its checkpoint,
    /// CheckpointPath + ".vae", on a resume) and the UNet on its latents.
    /// </summary>
    public DiffusionModel Train(IReadOnlyList<RgbaImage> images, IReadOnlyList<string> captions)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(captions);
        if (images.Count == 0) throw new ArgumentException("Training needs at least one image.", nameof(images));
        if (images.Count != captions.Count)
            throw new ArgumentException($"{images.Count} images but {captions.Count} captions.", nameof(captions));
        if (images[0].Width != images[0].Height)
            throw new ArgumentException($"The model trains on square images; the first image is {images[0].Width}×{images[0].Height}. Pad or crop the collection to squares first.", nameof(images));
        var latent = _options.Latent;
        int side = images[0].Width, factor = latent?.DownscaleFactor ?? 1;
        if (side % factor != 0)
            throw new ArgumentException($"The VAE makes latents {factor} times smaller, so the image side must be a multiple of {factor}; the images are {side}×{side}. Pad the images or change LatentOptions.BlockChannels.", nameof(images));
        UNetOptions unet;
        try
        {
            unet = _options.ResolveUNet(side);
            unet.Validate();
        }
        catch (ArgumentException ex) when (_options.UNet is null)
        {
            string space = latent is null ? "" : $" (latents of {side / factor}×{side / factor})";
            throw new ArgumentException($"The {_options.Preset} preset cannot train on the collection's {images[0].Width}×{images[0].Height} images{space}: {ex.Message} Pad or resize the images, or choose another preset.", nameof(images), ex);
        }
        if (side != unet.ImageSize * factor)
            throw new ArgumentException($"The model expects {unet.ImageSize * factor}×{unet.ImageSize * factor} images; the first image is {images[0].Width}×{images[0].Height}. Resize first or choose ImageSize.", nameof(images));
        if (latent is not null && unet.ImageChannels != latent.LatentChannels)
            throw new ArgumentException($"The UNet has {unet.ImageChannels} input channels but the VAE's latents have {latent.LatentChannels}; set UNet.ImageChannels = LatentOptions.LatentChannels.", nameof(images));

        var device = TorchRuntime.Resolve(_options.Device);
        // Before any allocation: a batch that cannot fit would swap for minutes, then fail (a GPU reports its own limit).
        if (device.type == DeviceType.CPU) TrainingMemory.CheckBatchFits(unet, _options.BatchSize, TrainingMemory.AvailableBytes());
        _unetTime = latent is null ? _options.MaxTime : _options.MaxTime - VaeTime(latent);
        var (data, vae, vaeConfig) = TrainingSamples(images, latent, device);
        DiffusionModel model, ema;
        try
        {
            var modelOptions = new DiffusionModelOptions { UNet = unet, Prediction = _options.Prediction, Schedule = _options.Schedule, Vae = vaeConfig };
            var tokenizer = PromptTokenizer.FromCaptions(captions);
            model = TorchRuntime.Seeded(_options.EffectiveSeed, () => new DiffusionModel(modelOptions, tokenizer, device));
            ema = new DiffusionModel(modelOptions, tokenizer, device);
            if (vae is not null)
            {
                model.CopyVaeFrom(vae);
                ema.CopyVaeFrom(vae);
            }
        }
        catch
        {
            data.Dispose();
            throw;
        }
        finally
        {
            vae?.Dispose();
        }
        CopyWeights(model, ema);
        var adam = new AdamW(model.Network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), _options.LearningRate, weightDecay: _options.WeightDecay);
        try
        {
            int step = 0;
            var elapsedBefore = TimeSpan.Zero;
            if (_options.CheckpointPath is not null && _options.Resume && File.Exists(_options.CheckpointPath))
                (step, elapsedBefore) = LoadCheckpoint(_options.CheckpointPath, model, ema, adam);
            using var ids = model.EncodePrompts(captions);
            Loop(model, ema, adam, data, ids, captions, step, elapsedBefore);
            model.Dispose();
            return ema;
        }
        catch
        {
            model.Dispose();
            ema.Dispose();
            throw;
        }
        finally
        {
            adam.Dispose();
            data.Dispose();
        }
    }

    /// <summary>
    /// What the UNet trains on: the images' pixels, or for a latent model the VAE's latents of them scaled to unit
    /// standard deviation, with the trained VAE (the caller disposes both) and its config carrying the measured scaling
    /// factor. The pixels of a latent model are freed once encoded: at 128×128 they are most of the training's memory.
    /// </summary>
    private (Tensor Data, AutoencoderKL? Vae, AutoencoderKLConfig? Config) TrainingSamples(IReadOnlyList<RgbaImage> images,
        LatentOptions? latent, Device device)
    {
        var pixels = ImageTensors.ToTensor(images, device);
        if (latent is null) return (pixels, null, null);
        AutoencoderKL? vae = null;
        try
        {
            vae = TrainVae(pixels, latent);
            using var raw = VaeTrainer.Latents(vae, pixels);
            double scale = VaeTrainer.ScalingFactor(raw);
            return (raw * scale, vae, vae.Config with { ScalingFactor = scale });
        }
        catch
        {
            vae?.Dispose();
            throw;
        }
        finally
        {
            pixels.Dispose();
        }
    }

    /// <summary>
    /// The VAE of a latent model: read back from CheckpointPath + ".vae" when a resumed run already trained it with these
    /// settings, else trained in <see cref="LatentOptions.TimeFraction"/> of the time budget (the UNet gets the rest either
    /// way, so a resumed run keeps its learning-rate schedule) and saved there.
    /// </summary>
    private AutoencoderKL TrainVae(Tensor pixels, LatentOptions latent)
    {
        string settings = JsonSerializer.Serialize(new { latent, _options.EffectiveSeed, Images = pixels.shape }, DiffusionModel.JsonOptions);
        string? path = _options.CheckpointPath is null ? null : _options.CheckpointPath + ".vae";
        if (path is not null && _options.Resume && VaeTrainer.TryLoad(path, settings, pixels.device) is { } saved) return saved;
        var vae = VaeTrainer.Train(pixels, latent, _options.EffectiveSeed, VaeTime(latent), _options.Progress, _options.ReportEvery, _options.CancellationToken);
        if (path is not null) VaeTrainer.Save(path, vae, settings);
        return vae;
    }

    /// <summary>The VAE's share of the time budget (null without one); the UNet's is the rest.</summary>
    private TimeSpan? VaeTime(LatentOptions latent) => _options.MaxTime * latent.TimeFraction;

    private void Loop(DiffusionModel model, DiffusionModel ema, AdamW adam, Tensor data, Tensor ids, IReadOnlyList<string> captions,
        int step, TimeSpan elapsedBefore)
    {
        var o = _options;
        var sched = model.Schedule;
        using var alphaBar = tensor(sched.AlphasCumprod, dtype: float32, device: model.Device);
        using var lossWeight = MinSnrWeights(sched, o, model.Device);
        var clock = Stopwatch.StartNew();
        _elapsed = () => elapsedBefore + clock.Elapsed;
        double lossSum = 0;
        int lossCount = 0;
        model.Network.train();
        long n = data.shape[0];
        while (step < o.MaxSteps)
        {
            TorchRuntime.FitThreadsToLoad();
            if (o.CancellationToken.IsCancellationRequested)
            {
                if (o.CheckpointPath is not null) SaveCheckpoint(o.CheckpointPath, model, ema, adam, step);
                o.CancellationToken.ThrowIfCancellationRequested();
            }
            if (_unetTime is { } limit && _elapsed() >= limit) break;
            adam.LearningRate = o.LearningRate * LearningRateScheduleMath.Factor(o.LearningRateSchedule, step, o.WarmupSteps,
                Progress(step), o.FinalLearningRateFraction);
            using (var scope = NewDisposeScope())
            {
                using var gen = SeededRandom.Create(StepSeed(o.EffectiveSeed, step));
                var idx = SeededRandom.Randint(n, new long[] { o.BatchSize }, gen, model.Device);
                var x0 = data.index_select(0, idx);
                var cond = o.PromptPhraseDropout > 0
                    ? model.EncodePrompts(PartialPrompts(captions, idx, o.PromptPhraseDropout, StepSeed(o.EffectiveSeed, step)))
                    : ids.index_select(0, idx);
                var t = SeededRandom.Randint(sched.Timesteps, new long[] { o.BatchSize }, gen, model.Device);
                var eps = SeededRandom.Randn(x0.shape, gen, model.Device);
                var keep = SeededRandom.Rand(new long[] { o.BatchSize, 1 }, gen, model.Device).ge(o.ConditionDropout);
                cond = cond * keep.to_type(int64);
                var ab = alphaBar.index_select(0, t).view(-1, 1, 1, 1);
                var sa = ab.sqrt();
                var sb = (1 - ab).sqrt();
                var xt = x0 * sa + eps * sb;
                var target = o.Prediction == PredictionType.V ? eps * sa - x0 * sb : eps;
                var perSample = (model.Network.forward(xt, t, cond) - target).square().mean(new long[] { 1, 2, 3 });
                var loss = lossWeight is null ? perSample.mean() : (perSample * lossWeight.index_select(0, t)).mean();
                float lossValue = loss.item<float>();
                Divergence.ThrowIfNotFinite(lossValue, "Training", step + 1, o.LearningRate, "or check the images");
                adam.ZeroGrad();
                loss.backward();
                if (o.GradientClip > 0) adam.ClipGradNorm(o.GradientClip);
                adam.StepUpdate();
                UpdateEma(model, ema, Math.Min(o.EmaDecay, (1.0 + step) / (10.0 + step)));
                lossSum += lossValue;
                lossCount++;
            }
            step++;
            if (step % o.ReportEvery == 0 || step == o.MaxSteps)
            {
                o.Progress?.Report(new DiffusionTrainingProgress(step, o.MaxSteps, lossSum / Math.Max(1, lossCount), _elapsed()));
                lossSum = 0;
                lossCount = 0;
            }
            if (o.CheckpointPath is not null && o.CheckpointEvery > 0 && step % o.CheckpointEvery == 0)
                SaveCheckpoint(o.CheckpointPath, model, ema, adam, step);
        }
        if (lossCount > 0)
            o.Progress?.Report(new DiffusionTrainingProgress(step, o.MaxSteps, lossSum / lossCount, _elapsed()));
        if (o.CheckpointPath is not null) SaveCheckpoint(o.CheckpointPath, model, ema, adam, step);
        model.Network.eval();
    }

    /// <summary>
    /// The fraction of the budget used after <paramref name="step"/> steps: steps over <see cref="DiffusionTrainerOptions.MaxSteps"/>,
    /// or wall time over <see cref="DiffusionTrainerOptions.MaxTime"/>, whichever is further along. The wall time
    /// includes the time before a resume (stored in the checkpoint), so a resumed time-limited run keeps its schedule.
    /// </summary>
    private double Progress(int step)
    {
        double p = (double)step / _options.MaxSteps;
        if (_unetTime is { } limit && limit > TimeSpan.Zero)
            p = Math.Max(p, _elapsed().TotalSeconds / limit.TotalSeconds);
        return p;
    }

    /// <summary>Min-SNR-γ weight per timestep (null when disabled): min(SNR, γ)/(SNR + 1) for v, min(SNR, γ)/SNR for ε.</summary>
    internal static Tensor? MinSnrWeights(NoiseSchedule schedule, DiffusionTrainerOptions options, Device device)
    {
        if (options.MinSnrGamma <= 0) return null;
        var w = new float[schedule.Timesteps];
        for (int t = 0; t < w.Length; t++)
        {
            double ab = schedule.AlphasCumprod[t];
            double snr = ab / (1 - ab);
            double clipped = Math.Min(snr, options.MinSnrGamma);
            w[t] = (float)(options.Prediction == PredictionType.V ? clipped / (snr + 1) : clipped / snr);
        }
        return tensor(w, device: device);
    }

    /// <summary>
    /// The captions of a batch with each phrase after the first (the subject) left out with probability
    /// <paramref name="dropout"/>, so that partial prompts ("a noun", "a noun, head goat") are in the training
    /// distribution and leave the omitted traits free. Deterministic in (seed, step).
    /// </summary>
    internal static List<string> PartialPrompts(IReadOnlyList<string> captions, Tensor indices, double dropout, ulong seed)
    {
        var rng = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
        var prompts = new List<string>((int)indices.shape[0]);
        foreach (long i in indices.cpu().data<long>().ToArray())
        {
            var phrases = captions[(int)i].Split(", ");
            var kept = new List<string> { phrases[0] };
            for (int k = 1; k < phrases.Length; k++)
                if (rng.NextDouble() >= dropout) kept.Add(phrases[k]);
            prompts.Add(string.Join(", ", kept));
        }
        return prompts;
    }

    /// <summary>SplitMix64 of (seed, step): decorrelated per-step generator seeds.</summary>
    internal static ulong StepSeed(long seed, long step)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private static void UpdateEma(DiffusionModel model, DiffusionModel ema, double decay)
    {
        using var noGrad = no_grad();
        var src = model.Network.parameters().ToArray();
        var dst = ema.Network.parameters().ToArray();
        for (int i = 0; i < src.Length; i++)
            dst[i].lerp_(src[i], 1 - decay);
    }

    private static void CopyWeights(DiffusionModel from, DiffusionModel to)
    {
        using var noGrad = no_grad();
        var src = from.Network.parameters().ToArray();
        var dst = to.Network.parameters().ToArray();
        for (int i = 0; i < src.Length; i++) dst[i].copy_(src[i]);
    }

    private void SaveCheckpoint(string path, DiffusionModel model, DiffusionModel ema, AdamW adam, int step)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in model.Network.state_dict()) tensors["model." + k] = v;
        foreach (var (k, v) in ema.Network.state_dict()) tensors["ema." + k] = v;
        var adamState = adam.StateDict();
        foreach (var (k, v) in adamState) tensors[k] = v;
        var manifest = new CheckpointManifest(CheckpointFormat, DiffusionModel.FormatVersion, step, _options.EffectiveSeed,
            model.Options, model.Tokenizer.Vocabulary.ToArray(), _elapsed().TotalSeconds, ResultSettings(_options));
        ModelArchive.Write(path, new Dictionary<string, byte[]>
        {
            ["checkpoint.json"] = JsonSerializer.SerializeToUtf8Bytes(manifest, DiffusionModel.JsonOptions),
            ["state.safetensors"] = ModelArchive.SaveTensors(tensors),
        });
        foreach (var v in adamState.Values) v.Dispose();
    }

    private (int Step, TimeSpan Elapsed) LoadCheckpoint(string path, DiffusionModel model, DiffusionModel ema, AdamW adam)
    {
        var entries = ModelArchive.Read(path);
        CheckpointManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<CheckpointManifest>(ModelArchive.Require(entries, "checkpoint.json", path), DiffusionModel.JsonOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"Checkpoint '{path}': checkpoint.json is not valid ({ex.Message}).", ex);
        }
        if (m is null || m.Format != CheckpointFormat || m.Version != DiffusionModel.FormatVersion)
            throw new InvalidDataException($"'{path}' is not a version-{DiffusionModel.FormatVersion} DiffNft diffusion checkpoint.");
        if (m.Seed != _options.EffectiveSeed)
            throw new InvalidOperationException($"Checkpoint '{path}' was written with seed {m.Seed}, but this run uses seed {_options.EffectiveSeed}; delete it or use the same seed.");
        // Every setting that changes the trained weights must match, or the resumed run would silently be another run.
        var settings = ResultSettings(_options);
        if (m.Settings is null)
            throw new InvalidOperationException($"Checkpoint '{path}' does not record its training settings (an older version wrote it); delete it to start afresh.");
        foreach (var (name, value) in settings)
            if (!m.Settings.TryGetValue(name, out var saved) || saved != value)
                throw new InvalidOperationException(
                    $"Checkpoint '{path}' was written with {name} = {saved ?? "(unset)"}, but this run uses {name} = {value}; " +
                    "run with the same settings to resume, or delete the checkpoint to start afresh.");
        if (!m.Vocabulary.SequenceEqual(model.Tokenizer.Vocabulary) || JsonSerializer.Serialize(m.Options, DiffusionModel.JsonOptions) != JsonSerializer.Serialize(model.Options, DiffusionModel.JsonOptions))
            throw new InvalidOperationException($"Checkpoint '{path}' belongs to a different model (options or caption vocabulary differ); delete it to start afresh.");
        var state = ModelArchive.LoadTensors(entries, "state.safetensors", path);
        try
        {
            using var noGrad = no_grad();
            foreach (var (prefix, net) in new[] { ("model.", model.Network), ("ema.", ema.Network) })
            {
                foreach (var (k, v) in net.state_dict())
                {
                    if (!state.TryGetValue(prefix + k, out var src) || !src.shape.SequenceEqual(v.shape))
                        throw new InvalidDataException($"Checkpoint '{path}' lacks tensor '{prefix + k}' or its shape differs.");
                    v.copy_(src);
                }
            }
            adam.LoadStateDict(state, path);
        }
        finally
        {
            foreach (var v in state.Values) v.Dispose();
        }
        return (m.Step, TimeSpan.FromSeconds(m.ElapsedSeconds));
    }

    /// <summary>
    /// The settings that decide the trained weights besides the seed and the architecture (checked separately), as
    /// invariant text by option name. Progress, cancellation, device, paths and reporting are left out.
    /// </summary>
    internal static SortedDictionary<string, string> ResultSettings(DiffusionTrainerOptions o)
    {
        static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(o.Prediction)] = o.Prediction.ToString(),
            [nameof(o.Schedule)] = o.Schedule.ToString(),
            [nameof(o.BatchSize)] = o.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(o.LearningRate)] = F(o.LearningRate),
            [nameof(o.LearningRateSchedule)] = o.LearningRateSchedule.ToString(),
            [nameof(o.WarmupSteps)] = o.WarmupSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(o.FinalLearningRateFraction)] = F(o.FinalLearningRateFraction),
            [nameof(o.MinSnrGamma)] = F(o.MinSnrGamma),
            [nameof(o.WeightDecay)] = F(o.WeightDecay),
            [nameof(o.GradientClip)] = F(o.GradientClip),
            [nameof(o.EmaDecay)] = F(o.EmaDecay),
            [nameof(o.ConditionDropout)] = F(o.ConditionDropout),
            [nameof(o.PromptPhraseDropout)] = F(o.PromptPhraseDropout),
            // The budget shapes the learning-rate schedule, so it decides the weights too.
            [nameof(o.MaxSteps)] = o.MaxSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [nameof(o.MaxTime)] = o.MaxTime is { } t ? F(t.TotalSeconds) + " s" : "none",
        };
        // Only for latent models, so that the checkpoints of pixel runs written before latent models existed still resume.
        if (o.Latent is { } latent) settings[nameof(o.Latent)] = JsonSerializer.Serialize(latent, DiffusionModel.JsonOptions);
        return settings;
    }

    // ElapsedSeconds: wall time trained so far, so that a resumed time-limited run keeps its learning-rate schedule.
    // Settings: ResultSettings of the run that wrote it.
    private sealed record CheckpointManifest(string Format, int Version, int Step, int Seed, DiffusionModelOptions Options,
        string[] Vocabulary, double ElapsedSeconds = 0, SortedDictionary<string, string>? Settings = null);
}
