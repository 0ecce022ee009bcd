using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// A text-conditioned denoiser and the DDIM sampler around it: what generation, rollouts, PPO and reward
/// backpropagation need from a model, whether it denoises pixels (the package's own <see cref="DiffusionModel"/>) or the
/// latents of a VAE (Stable Diffusion). Every sampler in the package runs through <see cref="Step"/>, so the two
/// families share one DDIM implementation.
/// </summary>
internal abstract class DenoisingModel : IDisposable
{
    /// <summary>The noise schedule the denoiser was trained with.</summary>
    public abstract NoiseSchedule Schedule { get; }

    /// <summary>The device the networks live on.</summary>
    public abstract Device Device { get; }

    /// <summary>What the denoiser predicts (ε or v).</summary>
    public abstract PredictionType Prediction { get; }

    /// <summary>
    /// Whether each DDIM step clips x̂₀ to [−1, 1]: right for pixels, wrong for VAE latents (whose range is wider), which
    /// is why diffusers' Stable Diffusion schedulers set <c>clip_sample</c> false.
    /// </summary>
    public abstract bool ClipPredictedSample { get; }

    /// <summary>The shape [C, H, W] of one sample in the space the sampler runs in (pixels or latents).</summary>
    public abstract long[] SampleShape { get; }

    /// <summary>The side of the square images the model generates.</summary>
    public abstract int ImageSize { get; }

    /// <summary>The denoising network: what LoRA adapts and a full fine-tune trains.</summary>
    internal abstract nn.Module Denoiser { get; }

    /// <summary>Number of parameters of <see cref="Denoiser"/>.</summary>
    public long ParameterCount => Denoiser.parameters().Sum(p => p.numel());

    /// <summary>
    /// The conditioning of a batch of prompts, batch-first so that <c>index_select(0, …)</c> picks trajectories: token
    /// ids for the package's model, text-encoder states (with the unconditional ones) for Stable Diffusion.
    /// </summary>
    internal abstract Tensor EncodePrompts(IReadOnlyList<string> prompts);

    /// <summary>The classifier-free-guided network output at (x_t, t) for a conditioning from <see cref="EncodePrompts"/>.</summary>
    internal abstract Tensor GuidedOutput(Tensor xt, int t, Tensor conditioning, double guidance);

    /// <summary>Final samples as images in [−1, 1] ([B, 3 or 4, S, S]); the identity for pixel models, the VAE decoder for latent ones.</summary>
    internal virtual Tensor ToImages(Tensor samples) => samples.clamp(-1, 1);

    /// <summary>A new model with the same options and weights whose network can be trained; owned by the caller.</summary>
    internal abstract DenoisingModel CloneForTraining();

    /// <summary>One DDIM transition with this model's schedule, prediction type and clipping (<see cref="DdimStep.Step"/>).</summary>
    internal DdimStepResult Step(Tensor output, Tensor xt, int t, int prevT, double eta, Tensor? noise = null, Tensor? prevSample = null) =>
        DdimStep.Step(Schedule, output, xt, t, prevT, eta, Prediction, noise, prevSample, ClipPredictedSample);

    /// <summary>One standard-normal sample per generator, stacked into [B, C, H, W].</summary>
    internal Tensor Noise(Generator[] gens) =>
        cat(gens.Select(g => SeededRandom.Randn([1, .. SampleShape], g, Device)).ToArray(), 0);

    /// <summary>
    /// Generates one image per (prompt, seed) pair. Each image's noise comes from its own generator seeded by its seed,
    /// so an image depends only on its prompt, its seed and the options — not on the batch it was generated in.
    /// </summary>
    public RgbaImage[] Generate(IReadOnlyList<string> prompts, IReadOnlyList<long> seeds, SamplingOptions? options = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(seeds);
        if (prompts.Count != seeds.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {seeds.Count} seeds; give one seed per prompt.", nameof(seeds));
        options ??= new SamplingOptions();
        options.Validate();
        var result = new List<RgbaImage>(prompts.Count);
        Denoiser.eval();
        for (int start = 0; start < prompts.Count; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchRuntime.FitThreadsToLoad();
            int n = Math.Min(options.BatchSize, prompts.Count - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var gens = Enumerable.Range(start, n).Select(i => SeededRandom.Create((ulong)seeds[i])).ToArray();
            try
            {
                var x = SampleLoop(prompts.Skip(start).Take(n).ToList(), gens, options, cancellationToken);
                result.AddRange(ImageTensors.ToImages(ToImages(x)));
            }
            finally
            {
                foreach (var g in gens) g.Dispose();
            }
            progress?.Report(result.Count);
        }
        return result.ToArray();
    }

    private Tensor SampleLoop(IReadOnlyList<string> prompts, Generator[] gens, SamplingOptions options, CancellationToken ct)
    {
        var conditioning = EncodePrompts(prompts);
        var x = Noise(gens);
        var ts = Schedule.DdimTimesteps(options.Steps);
        int stride = Schedule.Timesteps / options.Steps;
        foreach (int t in ts)
        {
            ct.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            var output = GuidedOutput(x, t, conditioning, options.GuidanceScale);
            // With η > 0 each image draws its step noise from its own generator, keeping images independent of batching.
            var noise = options.Eta > 0 ? Noise(gens) : null;
            x = Step(output, x, t, t - stride, options.Eta, noise).Sample.MoveToOuterDisposeScope();
        }
        return x;
    }

    /// <inheritdoc/>
    public abstract void Dispose();
}
