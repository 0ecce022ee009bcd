using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>FeedForward</c> with the GEGLU activation and width multiplier 4: <c>net.0</c> is the <see cref="GEGLU"/>
/// (parameters <c>net.0.proj</c>), <c>net.1</c> a parameter-free dropout, <c>net.2</c> the output Linear.
/// </summary>
internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> net;

    /// <summary>Builds the layer.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="dim">Input and output width; the hidden width is 4 × dim.</param>
    public FeedForward(LayerFactory layers, int dim) : base(nameof(FeedForward))
    {
        ArgumentNullException.ThrowIfNull(layers);
        int inner = 4 * dim;
        net = nn.ModuleList<nn.Module<Tensor, Tensor>>(new GEGLU(layers, dim, inner), nn.Dropout(0.0), layers.Linear(inner, dim));
        RegisterComponents();
    }

    /// <summary>[…, dim] → […, dim].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        foreach (var layer in net) h = layer.call(h);
        return h.MoveToOuterDisposeScope();
    }
}
