using Microsoft.ML.DiffNft.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// Fidelity to the collection as the pretrained model sees it: the negative denoising error of the base diffusion
/// model on the image, R(x) = −(1/|T|) Σ_{t∈T} mean‖ε̂_base(√ᾱ_t·x + √(1−ᾱ_t)·ε_t, t, ∅) − ε_t‖², at a few fixed
/// timesteps with fixed noise and the empty prompt. The denoising error is (up to weights and a constant) the negative
/// evidence lower bound of x under the unconditional base model, so the reward is a likelihood proxy: high for images the
/// pretrained model finds typical of its training collection, low for artefacts and off-distribution drift.
/// </summary>
/// <remarks>
/// <para>Every image is noised with the same ε_t (common random numbers): differences between images' rewards then come
/// from the images, not from the noise draw, and the reward is deterministic. The timesteps default to 10 %, 30 %, 50 %
/// and 70 % of the schedule, where the error reflects shapes and colours rather than single-pixel noise.</para>
/// <para>It is differentiable in the images. It needs only the base model — not the evaluation's trait decoder or its
/// FID network, which would turn the evaluation into the objective. Pass the <em>frozen</em> base model: during LoRA
/// fine-tuning the fine-tuner scores rewards with the adapter switched off, so the base network may be the one adapted.</para>
/// <para>For a latent model the images are first encoded by its VAE, and the error is the UNet's on the latents.</para>
/// </remarks>
internal sealed class DenoisingFidelityReward : IImageReward
{
    private readonly DiffusionModel _model;
    private readonly int[] _timesteps;
    private readonly long _seed;
    private Tensor? _noise;

    /// <summary>Creates the reward over a pretrained model.</summary>
    /// <param name="model">The frozen base diffusion model (not owned: the caller disposes it).</param>
    /// <param name="timesteps">Timesteps at which the denoising error is measured (default 10/30/50/70 % of T).</param>
    /// <param name="seed">Seed of the fixed noise.</param>
    public DenoisingFidelityReward(DiffusionModel model, IReadOnlyList<int>? timesteps = null, long seed = 0)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        int total = model.Schedule.Timesteps;
        _timesteps = (timesteps ?? new[] { total / 10, 3 * total / 10, total / 2, 7 * total / 10 }).ToArray();
        if (_timesteps.Length == 0) throw new ArgumentException("At least one timestep is needed.", nameof(timesteps));
        foreach (int t in _timesteps)
            if (t < 0 || t >= total) throw new ArgumentOutOfRangeException(nameof(timesteps), t, $"Timesteps must lie in 0 … {total - 1}.");
        _seed = seed;
    }

    /// <summary>"fidelity".</summary>
    public string Name => "fidelity";

    /// <summary>True: the base network is differentiable in its input.</summary>
    public bool IsDifferentiable => true;

    /// <summary>The timesteps at which the denoising error is measured.</summary>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <inheritdoc/>
    public Tensor Score(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var u = _model.Options.UNet;
        int side = _model.ImageSize;
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != side || images.shape[3] != side)
            throw new ArgumentException($"The fidelity reward's model takes [N, 3, {side}, {side}] images; got [{string.Join(", ", images.shape)}].", nameof(images));
        using var noGrad = images.requires_grad ? null : no_grad();
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        int k = _timesteps.Length;
        var noise = Noise(images.device, images.dtype);
        var x = _model.ToSamples(images.to(_model.Device));
        // One network call for all (image, timestep) pairs: [k·n, C, H, W], timestep-major.
        var xts = new Tensor[k];
        var eps = new Tensor[k];
        for (int i = 0; i < k; i++)
        {
            double a = _model.Schedule.AlphaBar(_timesteps[i]);
            eps[i] = noise[i].unsqueeze(0).expand(x.shape);
            xts[i] = x * Math.Sqrt(a) + eps[i] * Math.Sqrt(1 - a);
        }
        var xt = cat(xts, 0);
        var t = tensor(_timesteps.SelectMany(ts => Enumerable.Repeat((long)ts, (int)n)).ToArray(), device: _model.Device);
        var ids = zeros(new[] { k * n, (long)u.MaxTokens }, int64, _model.Device);
        var outputs = _model.Network.forward(xt, t, ids).chunk(k, 0);
        Tensor? sum = null;
        for (int i = 0; i < k; i++)
        {
            var (epsHat, _) = DdimStep.Interpret(outputs[i], xts[i], _model.Schedule.AlphaBar(_timesteps[i]), _model.Options.Prediction, clipX0: false);
            var err = (epsHat - eps[i]).square().mean(new long[] { 1, 2, 3 });
            sum = sum is null ? err : sum + err;
        }
        var reward = (sum! * (-1.0 / k)).to(images.device);
        return reward.MoveToOuterDisposeScope();
    }

    private Tensor Noise(Device device, ScalarType dtype)
    {
        var u = _model.Options.UNet;
        if (_noise is null)
        {
            using var gen = new Generator((ulong)_seed, CPU);
            var n = randn(new long[] { _timesteps.Length, u.ImageChannels, u.ImageSize, u.ImageSize }, generator: gen);
            n.DetachFromDisposeScope();
            _noise = n;
        }
        // An alias, so that a no-op move never hands the cached tensor itself to a dispose scope.
        return _noise.alias().to(dtype, device);
    }
}
