using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>TimestepEmbedding</c> (the UNet's <c>time_embedding</c>): Linear, SiLU, Linear.
/// Parameters: <c>linear_1</c>, <c>linear_2</c>.
/// </summary>
internal sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear linear_1;
    private readonly TorchSharp.Modules.Linear linear_2;

    /// <summary>Builds the MLP.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="inChannels">Width of the sinusoidal embedding.</param>
    /// <param name="timeEmbedDim">Width of the output (4 × the first block's channels in Stable Diffusion).</param>
    public TimestepEmbedding(LayerFactory layers, int inChannels, int timeEmbedDim) : base(nameof(TimestepEmbedding))
    {
        ArgumentNullException.ThrowIfNull(layers);
        linear_1 = layers.Linear(inChannels, timeEmbedDim);
        linear_2 = layers.Linear(timeEmbedDim, timeEmbedDim);
        RegisterComponents();
    }

    /// <summary>[B, inChannels] → [B, timeEmbedDim].</summary>
    public override Tensor forward(Tensor sample)
    {
        using var scope = NewDisposeScope();
        return linear_2.call(nn.functional.silu(linear_1.call(sample))).MoveToOuterDisposeScope();
    }
}
