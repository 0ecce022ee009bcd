using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// One encoder level: diffusers' <c>DownBlock2D</c> (resnets only), <c>CrossAttnDownBlock2D</c> (each resnet followed by a
/// <see cref="Transformer2DModel"/>) and, without a time embedding, the VAE's <c>DownEncoderBlock2D</c> — the three share
/// their layout. Parameters: <c>resnets.{i}</c>, <c>attentions.{i}</c> (cross-attention only), <c>downsamplers.0</c> (all but
/// the last level).
/// </summary>
internal sealed class DownBlock2D : nn.Module
{
    private readonly TorchSharp.Modules.ModuleList<Transformer2DModel>? attentions;
    private readonly TorchSharp.Modules.ModuleList<ResnetBlock2D> resnets;
    private readonly TorchSharp.Modules.ModuleList<Downsample2D>? downsamplers;

    /// <summary>Builds the level.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels of every resnet.</param>
    /// <param name="tembChannels">Time-embedding width, or <c>null</c> (VAE).</param>
    /// <param name="numLayers">Resnets (<c>layers_per_block</c>).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">Resnet GroupNorm epsilon.</param>
    /// <param name="addDownsample">Whether a stride-2 conv ends the level.</param>
    /// <param name="downsamplePadding">Padding of that conv.</param>
    /// <param name="transformer">Cross-attention settings, or <c>null</c> for a plain level.</param>
    public DownBlock2D(
        LayerFactory layers, int inChannels, int outChannels, int? tembChannels, int numLayers, int groups, double eps,
        bool addDownsample, int downsamplePadding, TransformerSettings? transformer)
        : base(nameof(DownBlock2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "A down block needs at least one resnet.");
        var res = new ResnetBlock2D[numLayers];
        var attn = transformer is null ? null : new Transformer2DModel[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            res[i] = new ResnetBlock2D(layers, i == 0 ? inChannels : outChannels, outChannels, tembChannels, groups, eps);
            if (attn is not null) attn[i] = transformer!.Build(layers, outChannels, groups);
        }
        resnets = nn.ModuleList(res);
        attentions = attn is null ? null : nn.ModuleList(attn);
        downsamplers = addDownsample ? nn.ModuleList(new Downsample2D(layers, outChannels, downsamplePadding)) : null;
        RegisterComponents();
    }

    /// <summary>Whether the level has cross-attention (a <c>CrossAttnDownBlock2D</c>).</summary>
    public bool HasCrossAttention => attentions is not null;

    /// <summary>The transformers of a cross-attention level (empty otherwise; exposed for LoRA).</summary>
    public IReadOnlyList<Transformer2DModel> Attentions => attentions?.ToList() ?? [];

    /// <summary>Runs the level.</summary>
    /// <param name="hiddenStates">[B, C_in, H, W].</param>
    /// <param name="temb">Time embedding, or <c>null</c> (VAE).</param>
    /// <param name="encoderHiddenStates">Prompt embeddings (cross-attention levels only).</param>
    /// <returns>The output, and every intermediate output the UNet keeps for its skip connections (one per resnet, plus the downsampled one), in order.</returns>
    public (Tensor Output, List<Tensor> States) Forward(Tensor hiddenStates, Tensor? temb, Tensor? encoderHiddenStates)
    {
        var states = new List<Tensor>();
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].call(h, temb);
            if (attentions is not null)
            {
                if (encoderHiddenStates is null)
                    throw new ArgumentNullException(nameof(encoderHiddenStates), "A cross-attention down block needs the prompt embeddings.");
                h = attentions[i].call(h, encoderHiddenStates);
            }
            states.Add(h);
        }
        if (downsamplers is not null)
        {
            h = downsamplers[0].call(h);
            states.Add(h);
        }
        return (h, states);
    }
}
