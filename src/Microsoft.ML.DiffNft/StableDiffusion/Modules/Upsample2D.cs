using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>Upsample2D</c> with a convolution: nearest-neighbour interpolation (×2, or to an explicit size when the
/// UNet's skip connection has an odd size), then a 3×3 conv. Parameters: <c>conv</c>.
/// </summary>
internal sealed class Upsample2D : nn.Module<Tensor, long[]?, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d conv;

    /// <summary>Builds the layer.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="channels">Input and output channels.</param>
    public Upsample2D(LayerFactory layers, int channels) : base(nameof(Upsample2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        conv = layers.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Upsamples [B, C, H, W].</summary>
    /// <param name="input">The feature map.</param>
    /// <param name="outputSize">Target [H', W'], or <c>null</c> for 2H×2W.</param>
    public override Tensor forward(Tensor input, long[]? outputSize)
    {
        using var scope = NewDisposeScope();
        var dtype = input.dtype;
        // diffusers interpolates bfloat16 in float32 (the nearest kernel lacked bfloat16); nearest copies values, so the
        // round trip is exact and only keeps the behaviour identical where the kernel is missing.
        var h = dtype == ScalarType.BFloat16 ? input.to_type(ScalarType.Float32) : input;
        h = outputSize is null
            ? nn.functional.interpolate(h, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(h, size: outputSize, mode: InterpolationMode.Nearest);
        if (dtype == ScalarType.BFloat16) h = h.to_type(dtype);
        return conv.call(h).MoveToOuterDisposeScope();
    }
}
