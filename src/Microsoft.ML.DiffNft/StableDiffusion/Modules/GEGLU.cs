using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>GEGLU</c>: one projection to twice the width, split into a value half and a gate half, value × GELU(gate)
/// with the exact (erf) GELU, not the tanh approximation. Parameters: <c>proj</c>.
/// </summary>
internal sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear proj;

    /// <summary>Builds the layer.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="dimIn">Input width.</param>
    /// <param name="dimOut">Output width (the projection has twice this many outputs).</param>
    public GEGLU(LayerFactory layers, int dimIn, int dimOut) : base(nameof(GEGLU))
    {
        ArgumentNullException.ThrowIfNull(layers);
        proj = layers.Linear(dimIn, 2L * dimOut);
        RegisterComponents();
    }

    /// <summary>[…, dimIn] → […, dimOut].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var parts = proj.call(input).chunk(2, -1);
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}
