using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>UNetMidBlock2DCrossAttn</c> (one layer): resnet, <see cref="Transformer2DModel"/>, resnet, at the lowest
/// resolution. The resnets divide by <c>mid_block_scale_factor</c>. Parameters: <c>resnets.0</c>, <c>attentions.0</c>, <c>resnets.1</c>.
/// </summary>
internal sealed class UNetMidBlock2DCrossAttn : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<Transformer2DModel> attentions;
    private readonly TorchSharp.Modules.ModuleList<ResnetBlock2D> resnets;

    /// <summary>Builds the block.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="channels">Channels (the last block's).</param>
    /// <param name="tembChannels">Time-embedding width.</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">Resnet GroupNorm epsilon.</param>
    /// <param name="outputScaleFactor">diffusers' <c>mid_block_scale_factor</c>.</param>
    /// <param name="transformer">Cross-attention settings.</param>
    public UNetMidBlock2DCrossAttn(
        LayerFactory layers, int channels, int tembChannels, int groups, double eps, double outputScaleFactor, TransformerSettings transformer)
        : base(nameof(UNetMidBlock2DCrossAttn))
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(transformer);
        resnets = nn.ModuleList(
            new ResnetBlock2D(layers, channels, channels, tembChannels, groups, eps, outputScaleFactor),
            new ResnetBlock2D(layers, channels, channels, tembChannels, groups, eps, outputScaleFactor));
        attentions = nn.ModuleList(transformer.Build(layers, channels, groups));
        RegisterComponents();
    }

    /// <summary>The transformer (exposed for LoRA).</summary>
    public Transformer2DModel Attention => attentions[0];

    /// <summary>Applies the block.</summary>
    /// <param name="hiddenStates">[B, C, h, w].</param>
    /// <param name="temb">Time embedding [B, T].</param>
    /// <param name="encoderHiddenStates">Prompt embeddings [B, L, D].</param>
    public override Tensor forward(Tensor hiddenStates, Tensor temb, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].call(hiddenStates, temb);
        h = attentions[0].call(h, encoderHiddenStates);
        h = resnets[1].call(h, temb);
        return h.MoveToOuterDisposeScope();
    }
}
