using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// The parameter names and shapes a module expects — what a checkpoint must provide, no more and no fewer. The UNet and
/// VAE are built on the <c>meta</c> device for this: no memory is allocated and nothing is initialised, so even the SD 1.5
/// UNet's layout costs well under a second.
/// </summary>
internal static class ParameterLayout
{
    /// <summary>Every parameter of <paramref name="module"/>: name → shape, in registration order.</summary>
    public static IReadOnlyDictionary<string, long[]> Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var layout = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters())
            layout.Add(name, parameter.shape);
        return layout;
    }

    /// <summary>The parameters of a <see cref="UNet2DConditionModel"/> built from <paramref name="config"/>.</summary>
    public static IReadOnlyDictionary<string, long[]> Of(UNet2DConditionConfig config)
    {
        using var unet = new UNet2DConditionModel(config, LayerFactory.Meta);
        return Of(unet);
    }

    /// <summary>The parameters of an <see cref="AutoencoderKL"/> built from <paramref name="config"/>.</summary>
    public static IReadOnlyDictionary<string, long[]> Of(AutoencoderKLConfig config)
    {
        using var vae = new AutoencoderKL(config, LayerFactory.Meta);
        return Of(vae);
    }

    /// <summary>The total number of scalars in a layout.</summary>
    public static long Count(IReadOnlyDictionary<string, long[]> layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        long total = 0;
        foreach (var shape in layout.Values)
        {
            long n = 1;
            foreach (long d in shape) n *= d;
            total += n;
        }
        return total;
    }
}
