using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>Downsample2D</c> with a convolution (<c>use_conv=True</c>, name "op"): a 3×3 conv with stride 2 and
/// padding <c>downsample_padding</c>. With padding 0 (the VAE encoder) the input is first padded by one zero row at the
/// bottom and one zero column at the right, as diffusers does, so an H×W input becomes ⌊H/2⌋×⌊W/2⌋.
/// Parameters: <c>conv</c>.
/// </summary>
internal sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    private readonly int _padding;
    private readonly TorchSharp.Modules.Conv2d conv;

    /// <summary>Builds the layer.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="padding">Convolution padding (diffusers' <c>downsample_padding</c>; 1 in the UNet, 0 in the VAE).</param>
    public Downsample2D(LayerFactory layers, int channels, int padding) : base(nameof(Downsample2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "The downsampling padding must not be negative.");
        _padding = padding;
        conv = layers.Conv2d(channels, channels, 3, stride: 2, padding: padding);
        RegisterComponents();
    }

    /// <summary>Halves the spatial size of [B, C, H, W].</summary>
    public override Tensor forward(Tensor input)
    {
        if (_padding != 0) return conv.call(input);
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(input, new long[] { 0, 1, 0, 1 });
        return conv.call(padded).MoveToOuterDisposeScope();
    }
}
