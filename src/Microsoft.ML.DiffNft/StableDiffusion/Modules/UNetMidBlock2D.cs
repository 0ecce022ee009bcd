using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>UNetMidBlock2D</c> as the VAE builds it: resnet, single-head self-attention over all pixels (GroupNorm
/// first, epsilon 1e-6, biases, residual connection), resnet; no time embedding.
/// Parameters: <c>resnets.0</c>, <c>attentions.0</c> (<c>group_norm</c>, <c>to_q</c>, <c>to_k</c>, <c>to_v</c>, <c>to_out.0</c>), <c>resnets.1</c>.
/// </summary>
internal sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<Attention> attentions;
    private readonly TorchSharp.Modules.ModuleList<ResnetBlock2D> resnets;

    /// <summary>Builds the block.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="channels">Channels (the VAE's widest level).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon (1e-6 in the VAE).</param>
    public UNetMidBlock2D(LayerFactory layers, int channels, int groups, double eps) : base(nameof(UNetMidBlock2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        resnets = nn.ModuleList(
            new ResnetBlock2D(layers, channels, channels, null, groups, eps),
            new ResnetBlock2D(layers, channels, channels, null, groups, eps));
        // The VAE passes attention_head_dim = channels: one head as wide as the feature map.
        attentions = nn.ModuleList(new Attention(
            layers, channels, null, heads: 1, headDim: channels, bias: true, normGroups: groups, normEps: eps, residualConnection: true));
        RegisterComponents();
    }

    /// <summary>[B, C, h, w] → [B, C, h, w].</summary>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].call(hiddenStates, null);
        h = attentions[0].call(h, null);
        h = resnets[1].call(h, null);
        return h.MoveToOuterDisposeScope();
    }
}
