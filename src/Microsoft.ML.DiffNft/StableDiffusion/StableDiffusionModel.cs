using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion;

/// <summary>
/// A Stable Diffusion model — CLIP tokenizer and text encoder, the cross-attention UNet and the VAE — as a
/// <see cref="DenoisingModel"/>: the package's DDIM sampler, rollouts, PPO and LoRA run on it unchanged, in latent
/// space, with classifier-free guidance against a negative prompt and images decoded through the VAE.
/// </summary>
/// <remarks>
/// The model owns its four components and disposes them. Only the UNet is ever trained: the text encoder's and the
/// VAE's parameters are frozen at construction, so reward gradients flow through the VAE decoder to the latents
/// without accumulating in its weights. Latents and every DDIM step stay in float32; the networks may run in a half
/// precision (<see cref="ComputeType"/>), with inputs cast on the way in and outputs cast back, as diffusers upcasts.
/// </remarks>
internal sealed class StableDiffusionModel : DenoisingModel
{
    private readonly Tensor _ownedNegative;

    /// <summary>Assembles a model from loaded components (ownership passes to the model).</summary>
    /// <param name="tokenizer">The CLIP tokenizer.</param>
    /// <param name="textEncoder">The CLIP text encoder, on <paramref name="device"/>.</param>
    /// <param name="unet">The denoising UNet, on <paramref name="device"/>.</param>
    /// <param name="vae">The VAE, on <paramref name="device"/>.</param>
    /// <param name="schedule">The noise schedule from the scheduler config.</param>
    /// <param name="prediction">What the UNet predicts.</param>
    /// <param name="device">The device of the networks.</param>
    /// <param name="computeType">The dtype the networks' weights are in.</param>
    /// <param name="negativePrompt">The prompt guidance steers away from ("" is diffusers' unconditional prompt).</param>
    /// <param name="clipSample">Whether DDIM clips x̂₀ to [−1, 1] (the scheduler config's <c>clip_sample</c>; false for Stable Diffusion).</param>
    public StableDiffusionModel(ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet, AutoencoderKL vae,
        NoiseSchedule schedule, PredictionType prediction, Device device, ScalarType computeType = ScalarType.Float32, string negativePrompt = "",
        bool clipSample = false)
    {
        ClipPredictedSample = clipSample;
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        TextEncoder = textEncoder ?? throw new ArgumentNullException(nameof(textEncoder));
        UNet = unet ?? throw new ArgumentNullException(nameof(unet));
        Vae = vae ?? throw new ArgumentNullException(nameof(vae));
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        Prediction = prediction;
        Device = device ?? throw new ArgumentNullException(nameof(device));
        ComputeType = computeType;
        NegativePrompt = negativePrompt ?? throw new ArgumentNullException(nameof(negativePrompt));
        if (unet.Config.CrossAttentionDim != textEncoder.Config.HiddenSize)
            throw new ArgumentException($"The UNet's cross_attention_dim ({unet.Config.CrossAttentionDim}) differs from the text encoder's hidden_size ({textEncoder.Config.HiddenSize}): the components are not from one pipeline.");
        if (unet.Config.InChannels != vae.Config.LatentChannels)
            throw new ArgumentException($"The UNet's in_channels ({unet.Config.InChannels}) differs from the VAE's latent_channels ({vae.Config.LatentChannels}): the components are not from one pipeline.");
        foreach (var p in textEncoder.parameters().Concat(vae.parameters())) p.requires_grad_(false);
        textEncoder.eval();
        vae.eval();
        int latent = unet.Config.SampleSize ?? vae.Config.SampleSize / vae.Config.DownscaleFactor;
        SampleShape = [unet.Config.InChannels, latent, latent];
        ImageSize = latent * vae.Config.DownscaleFactor;
        using var noGrad = no_grad();
        _ownedNegative = EncodeText([NegativePrompt]).DetachFromDisposeScope();
    }

    /// <summary>The CLIP tokenizer.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>The CLIP text encoder (frozen).</summary>
    public ClipTextModel TextEncoder { get; }

    /// <summary>The UNet: the network LoRA adapts.</summary>
    public UNet2DConditionModel UNet { get; }

    /// <summary>The VAE (frozen).</summary>
    public AutoencoderKL Vae { get; }

    /// <summary>The prompt guidance steers away from; "" by default, as diffusers.</summary>
    public string NegativePrompt { get; }

    /// <summary>The dtype of the networks' weights (float32, or bfloat16/float16 on a GPU).</summary>
    public ScalarType ComputeType { get; }

    /// <inheritdoc/>
    public override NoiseSchedule Schedule { get; }

    /// <inheritdoc/>
    public override Device Device { get; }

    /// <inheritdoc/>
    public override PredictionType Prediction { get; }

    /// <inheritdoc/>
    public override bool ClipPredictedSample { get; }

    /// <inheritdoc/>
    public override long[] SampleShape { get; }

    /// <inheritdoc/>
    public override int ImageSize { get; }

    /// <inheritdoc/>
    internal override nn.Module Denoiser => UNet;

    /// <summary>The text encoder's last hidden state [B, 77, D] for prompts, in <see cref="ComputeType"/>.</summary>
    internal Tensor EncodeText(IReadOnlyList<string> prompts)
    {
        using var scope = NewDisposeScope();
        using var ids = Tokenizer.EncodeBatch(prompts);
        return TextEncoder.call(ids.to(Device)).MoveToOuterDisposeScope();
    }

    /// <summary>[B, 2, 77, D]: each prompt's text-encoder states, then the negative prompt's.</summary>
    internal override Tensor EncodePrompts(IReadOnlyList<string> prompts)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cond = EncodeText(prompts);
        var uncond = _ownedNegative.expand(cond.shape);
        return stack([cond, uncond], 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// uncond + s·(cond − uncond), with both halves in one doubled UNet batch ordered as diffusers orders it (negative
    /// first); a scale of 1 runs the conditional half alone.
    /// </summary>
    internal override Tensor GuidedOutput(Tensor xt, int t, Tensor conditioning, double guidance)
    {
        using var scope = NewDisposeScope();
        long b = xt.shape[0];
        var cond = conditioning.select(1, 0);
        if (guidance == 1.0)
            return Denoise(xt, full([b], t, int64, Device), cond).MoveToOuterDisposeScope();
        var both = Denoise(cat([xt, xt], 0), full([2 * b], t, int64, Device), cat([conditioning.select(1, 1), cond], 0));
        var parts = both.chunk(2, 0);
        return (parts[0] + (parts[1] - parts[0]) * guidance).MoveToOuterDisposeScope();
    }

    private Tensor Denoise(Tensor xt, Tensor t, Tensor states) =>
        UNet.call(xt.to_type(ComputeType), t, states.to_type(ComputeType)).to_type(ScalarType.Float32);

    /// <summary>
    /// How many latents the VAE decodes at once. The decoder's activations at full resolution dominate memory (a 512×512
    /// image passes 128–512-channel maps at 512²), so a rollout of many trajectories is decoded in slices of this many.
    /// </summary>
    public int VaeDecodeBatch { get; init; } = 4;

    /// <summary>Latents decoded by the VAE (divided by its scaling factor first) <see cref="VaeDecodeBatch"/> at a time, clamped to [−1, 1].</summary>
    internal override Tensor ToImages(Tensor samples) => Vae.DecodeScaled(samples, VaeDecodeBatch, ComputeType);

    /// <summary>Stable Diffusion is fine-tuned with LoRA only: a full copy of its UNet is not made.</summary>
    internal override DenoisingModel CloneForTraining() =>
        throw new NotSupportedException("Stable Diffusion models are fine-tuned with LoRA (LoraRank > 0); a full fine-tune would copy the whole UNet.");

    /// <inheritdoc/>
    public override void Dispose()
    {
        _ownedNegative.Dispose();
        UNet.Dispose();
        Vae.Dispose();
        TextEncoder.Dispose();
    }
}
