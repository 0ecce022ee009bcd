using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>AutoencoderKL</c> (the Stable Diffusion VAE) with its parameter names: <c>encoder</c>, <c>decoder</c>,
/// <c>quant_conv</c> (1×1 on the moments), <c>post_quant_conv</c> (1×1 on the latents). The mid-block attentions use the
/// current names <c>…mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}</c>; checkpoints saved before diffusers
/// 0.14 call them <c>query</c>, <c>key</c>, <c>value</c>, <c>proj_attn</c> (and store 1×1 conv weights), which a loader must rename.
/// The latents the UNet sees are <c>Encode(x).Sample() · ScalingFactor</c>; decode <c>latents / ScalingFactor</c>.
/// </summary>
internal sealed class AutoencoderKL : nn.Module<Tensor, Tensor>
{
    private readonly AutoencoderKLConfig _config;
    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;
    private readonly TorchSharp.Modules.Conv2d quant_conv;
    private readonly TorchSharp.Modules.Conv2d post_quant_conv;

    /// <summary>Builds the VAE with freshly initialised parameters.</summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="layers">Device and dtype of the parameters (default: CPU, float32); <see cref="LayerFactory.Meta"/> builds shapes only.</param>
    public AutoencoderKL(AutoencoderKLConfig config, LayerFactory? layers = null) : base(nameof(AutoencoderKL))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        layers ??= LayerFactory.Default;
        encoder = new VaeEncoder(layers, config);
        decoder = new VaeDecoder(layers, config);
        quant_conv = layers.Conv2d(2L * config.LatentChannels, 2L * config.LatentChannels, 1);
        post_quant_conv = layers.Conv2d(config.LatentChannels, config.LatentChannels, 1);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public AutoencoderKLConfig Config => _config;

    /// <summary>The config's <c>scaling_factor</c>.</summary>
    public double ScalingFactor => _config.ScalingFactor;

    /// <summary>Encodes images to the latent posterior.</summary>
    /// <param name="images">[B, in_channels, H, W], conventionally in [−1, 1].</param>
    /// <returns>The diagonal Gaussian over unscaled latents [B, latent, H/f, W/f]; the caller disposes it.</returns>
    public DiagonalGaussianDistribution Encode(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != _config.InChannels)
            throw new ArgumentException($"The VAE encodes [batch, {_config.InChannels}, height, width] images, got [{string.Join(", ", images.shape)}].", nameof(images));
        using var scope = NewDisposeScope();
        var moments = quant_conv.call(encoder.call(images));
        // The distribution's tensors are made inside this scope; detach them from it so they outlive it.
        var posterior = new DiagonalGaussianDistribution(moments);
        posterior.Mean.MoveToOuterDisposeScope();
        posterior.LogVar.MoveToOuterDisposeScope();
        posterior.Std.MoveToOuterDisposeScope();
        posterior.Var.MoveToOuterDisposeScope();
        return posterior;
    }

    /// <summary>Decodes unscaled latents (divide the UNet's latents by <see cref="ScalingFactor"/> first).</summary>
    /// <param name="latents">[B, latent_channels, h, w].</param>
    /// <returns>Images [B, out_channels, h·f, w·f], conventionally in [−1, 1] (not clamped).</returns>
    public Tensor Decode(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 4 || latents.shape[1] != _config.LatentChannels)
            throw new ArgumentException($"The VAE decodes [batch, {_config.LatentChannels}, height, width] latents, got [{string.Join(", ", latents.shape)}].", nameof(latents));
        using var scope = NewDisposeScope();
        return decoder.call(post_quant_conv.call(latents)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Images from the latents a UNet denoises (scaled by <see cref="ScalingFactor"/>), decoded <paramref name="slice"/> at
    /// a time — the decoder's full-resolution activations dominate memory — in <paramref name="computeType"/> (the VAE's
    /// weights' dtype), returned in float32, clamped to [−1, 1]. Differentiable in the latents.
    /// </summary>
    public Tensor DecodeScaled(Tensor latents, int slice, ScalarType computeType = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentOutOfRangeException.ThrowIfLessThan(slice, 1);
        using var scope = NewDisposeScope();
        var slices = latents.split(slice, 0).Select(z => Decode((z / ScalingFactor).to_type(computeType)).to_type(ScalarType.Float32)).ToArray();
        return (slices.Length == 1 ? slices[0] : cat(slices, 0)).clamp(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstructs images through the posterior's mode (diffusers' <c>forward</c> with <c>sample_posterior=False</c>).</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        using var posterior = Encode(images);
        return Decode(posterior.Mean).MoveToOuterDisposeScope();
    }
}
