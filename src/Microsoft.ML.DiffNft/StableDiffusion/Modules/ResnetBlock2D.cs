using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>ResnetBlock2D</c> with the options Stable Diffusion uses (pre-norm, SiLU, <c>time_embedding_norm</c>
/// "default"): GroupNorm, SiLU, 3×3 conv, plus the projected time embedding, GroupNorm, SiLU, 3×3 conv, then
/// <c>(shortcut(x) + h) / output_scale_factor</c>. Parameters: <c>norm1</c>, <c>conv1</c>, <c>time_emb_proj</c> (only with a
/// time embedding), <c>norm2</c>, <c>conv2</c>, <c>conv_shortcut</c> (1×1, only when the channel count changes).
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly double _outputScaleFactor;

    // Field names are the diffusers parameter names: TorchSharp names registered submodules after their fields.
    private readonly TorchSharp.Modules.GroupNorm norm1;
    private readonly TorchSharp.Modules.Conv2d conv1;
    private readonly TorchSharp.Modules.Linear? time_emb_proj;
    private readonly TorchSharp.Modules.GroupNorm norm2;
    private readonly TorchSharp.Modules.Conv2d conv2;
    private readonly TorchSharp.Modules.Conv2d? conv_shortcut;

    /// <summary>Builds the block.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="tembChannels">Width of the time embedding, or <c>null</c> for none (the VAE).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="outputScaleFactor">The output is divided by this (diffusers' <c>output_scale_factor</c>).</param>
    public ResnetBlock2D(LayerFactory layers, int inChannels, int outChannels, int? tembChannels, int groups, double eps, double outputScaleFactor = 1.0)
        : base(nameof(ResnetBlock2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (!(outputScaleFactor > 0))
            throw new ArgumentOutOfRangeException(nameof(outputScaleFactor), outputScaleFactor, "The output scale factor must be positive.");
        _outputScaleFactor = outputScaleFactor;
        norm1 = layers.GroupNorm(groups, inChannels, eps);
        conv1 = layers.Conv2d(inChannels, outChannels, 3, padding: 1);
        time_emb_proj = tembChannels is int t ? layers.Linear(t, outChannels) : null;
        norm2 = layers.GroupNorm(groups, outChannels, eps);
        conv2 = layers.Conv2d(outChannels, outChannels, 3, padding: 1);
        conv_shortcut = inChannels != outChannels ? layers.Conv2d(inChannels, outChannels, 1) : null;
        RegisterComponents();
    }

    /// <summary>Applies the block.</summary>
    /// <param name="input">Feature map [B, C_in, H, W].</param>
    /// <param name="temb">Time embedding [B, T], or <c>null</c> when the block was built without one.</param>
    /// <returns>[B, C_out, H, W].</returns>
    public override Tensor forward(Tensor input, Tensor? temb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.call(nn.functional.silu(norm1.call(input)));
        if (time_emb_proj is not null)
        {
            if (temb is null)
                throw new ArgumentNullException(nameof(temb), "This ResnetBlock2D was built with a time embedding; pass one.");
            // Same order as diffusers: activation, projection, broadcast over H and W, added before norm2.
            h = h + time_emb_proj.call(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        }
        h = conv2.call(nn.functional.silu(norm2.call(h)));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        var output = shortcut + h;
        // diffusers always divides; dividing by exactly 1 changes nothing, so it is skipped.
        if (_outputScaleFactor != 1.0) output = output / _outputScaleFactor;
        return output.MoveToOuterDisposeScope();
    }
}
