using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// Creates the leaf layers of the Stable Diffusion modules on one device and with one dtype, so that a whole UNet or
/// VAE can be built directly in half precision (half the memory of building in float32 and converting) or on the
/// <c>meta</c> device (no memory and no initialisation at all: the cheap way to list the expected parameter names and
/// shapes, see <see cref="ParameterLayout"/>).
/// </summary>
/// <param name="Device">Device of every parameter; <c>null</c> for TorchSharp's default (CPU).</param>
/// <param name="DType">Dtype of every parameter; <c>null</c> for TorchSharp's default (float32).</param>
internal sealed record LayerFactory(Device? Device = null, ScalarType? DType = null)
{
    /// <summary>Layers on the default device with the default dtype.</summary>
    public static LayerFactory Default { get; } = new();

    /// <summary>Layers on the <c>meta</c> device: shapes only, no storage.</summary>
    public static LayerFactory Meta { get; } = new(new Device(DeviceType.META));

    /// <summary>A fully connected layer (<c>weight</c> [out, in], <c>bias</c> [out] when <paramref name="bias"/>).</summary>
    public Linear Linear(long inFeatures, long outFeatures, bool bias = true)
        => nn.Linear(inFeatures, outFeatures, hasBias: bias, device: Device, dtype: DType);

    /// <summary>A square 2-D convolution (<c>weight</c> [out, in, k, k], <c>bias</c> [out]).</summary>
    public Conv2d Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0)
        => nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, device: Device, dtype: DType);

    /// <summary>
    /// An affine GroupNorm with weight 1 and bias 0, as PyTorch initialises it. TorchSharp 0.107's <c>nn.GroupNorm</c>
    /// leaves both as uninitialised memory (see <c>Diffusion/Modules/Norms.cs</c>), which matters for modules used
    /// with random weights (tests, benchmarks) even though a loaded checkpoint overwrites them.
    /// </summary>
    /// <param name="groups">Number of groups; must divide <paramref name="channels"/>.</param>
    /// <param name="channels">Number of channels.</param>
    /// <param name="eps">The epsilon added to the variance (diffusers uses 1e-6 in the VAE and transformers, <c>norm_eps</c> in UNet resnets).</param>
    public GroupNorm GroupNorm(int groups, long channels, double eps)
    {
        if (groups <= 0 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm needs the channel count ({channels}) to be a positive multiple of the group count ({groups}).");
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: Device, dtype: DType);
        using (no_grad())
        {
            norm.weight!.fill_(1);
            norm.bias!.fill_(0);
        }
        return norm;
    }

    /// <summary>An affine LayerNorm over the last dimension (PyTorch's default epsilon 1e-5, as diffusers' transformer blocks use).</summary>
    public LayerNorm LayerNorm(long features, double eps = 1e-5)
        => nn.LayerNorm(features, eps, elementwise_affine: true, device: Device, dtype: DType);
}
