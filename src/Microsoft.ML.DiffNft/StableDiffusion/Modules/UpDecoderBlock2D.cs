using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>UpDecoderBlock2D</c> (one VAE decoder level): resnets without time embedding, then nearest ×2 and a conv
/// on all but the last level. Parameters: <c>resnets.{i}</c>, <c>upsamplers.0</c>.
/// </summary>
internal sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<ResnetBlock2D> resnets;
    private readonly TorchSharp.Modules.ModuleList<Upsample2D>? upsamplers;

    /// <summary>Builds the level.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="numLayers">Resnets (<c>layers_per_block + 1</c>).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="addUpsample">Whether the level ends with an upsampler.</param>
    public UpDecoderBlock2D(LayerFactory layers, int inChannels, int outChannels, int numLayers, int groups, double eps, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "An up block needs at least one resnet.");
        var res = new ResnetBlock2D[numLayers];
        for (int i = 0; i < numLayers; i++)
            res[i] = new ResnetBlock2D(layers, i == 0 ? inChannels : outChannels, outChannels, null, groups, eps);
        resnets = nn.ModuleList(res);
        upsamplers = addUpsample ? nn.ModuleList(new Upsample2D(layers, outChannels)) : null;
        RegisterComponents();
    }

    /// <summary>[B, C_in, h, w] → [B, C_out, 2h, 2w] (or the same size on the last level).</summary>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = hiddenStates;
        foreach (var resnet in resnets) h = resnet.call(h, null);
        if (upsamplers is not null) h = upsamplers[0].call(h, null);
        return h.MoveToOuterDisposeScope();
    }
}
