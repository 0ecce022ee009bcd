using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// One UNet decoder level: diffusers' <c>UpBlock2D</c> (resnets only) or <c>CrossAttnUpBlock2D</c> (each resnet followed by
/// a <see cref="Transformer2DModel"/>). Each resnet takes the running features concatenated with one skip connection
/// (latest first). Parameters: <c>resnets.{i}</c>, <c>attentions.{i}</c> (cross-attention only), <c>upsamplers.0</c> (all but
/// the last level).
/// </summary>
internal sealed class UpBlock2D : nn.Module
{
    private readonly TorchSharp.Modules.ModuleList<Transformer2DModel>? attentions;
    private readonly TorchSharp.Modules.ModuleList<ResnetBlock2D> resnets;
    private readonly TorchSharp.Modules.ModuleList<Upsample2D>? upsamplers;

    /// <summary>Builds the level with diffusers' channel arithmetic.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="inChannels">Channels of the deepest skip connection this level consumes (diffusers' <c>in_channels</c>).</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="prevOutputChannels">Channels coming from the level below.</param>
    /// <param name="tembChannels">Time-embedding width.</param>
    /// <param name="numLayers">Resnets (<c>layers_per_block + 1</c>).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">Resnet GroupNorm epsilon.</param>
    /// <param name="addUpsample">Whether an upsampler ends the level.</param>
    /// <param name="transformer">Cross-attention settings, or <c>null</c> for a plain level.</param>
    public UpBlock2D(
        LayerFactory layers, int inChannels, int outChannels, int prevOutputChannels, int tembChannels, int numLayers, int groups,
        double eps, bool addUpsample, TransformerSettings? transformer)
        : base(nameof(UpBlock2D))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "An up block needs at least one resnet.");
        var res = new ResnetBlock2D[numLayers];
        var attn = transformer is null ? null : new Transformer2DModel[numLayers];
        for (int i = 0; i < numLayers; i++)
        {
            int skipChannels = i == numLayers - 1 ? inChannels : outChannels;
            int resnetIn = i == 0 ? prevOutputChannels : outChannels;
            res[i] = new ResnetBlock2D(layers, resnetIn + skipChannels, outChannels, tembChannels, groups, eps);
            if (attn is not null) attn[i] = transformer!.Build(layers, outChannels, groups);
        }
        resnets = nn.ModuleList(res);
        attentions = attn is null ? null : nn.ModuleList(attn);
        upsamplers = addUpsample ? nn.ModuleList(new Upsample2D(layers, outChannels)) : null;
        RegisterComponents();
    }

    /// <summary>Number of resnets, i.e. of skip connections this level consumes.</summary>
    public int NumResnets => resnets.Count;

    /// <summary>Whether the level has cross-attention (a <c>CrossAttnUpBlock2D</c>).</summary>
    public bool HasCrossAttention => attentions is not null;

    /// <summary>The transformers of a cross-attention level (empty otherwise; exposed for LoRA).</summary>
    public IReadOnlyList<Transformer2DModel> Attentions => attentions?.ToList() ?? [];

    /// <summary>Runs the level.</summary>
    /// <param name="hiddenStates">Features from the level below.</param>
    /// <param name="skips">This level's skip connections in the order they were produced; consumed last first.</param>
    /// <param name="temb">Time embedding.</param>
    /// <param name="encoderHiddenStates">Prompt embeddings (cross-attention levels only).</param>
    /// <param name="upsampleSize">Explicit [H, W] for the upsampler when the skip connection above has an odd size, else <c>null</c>.</param>
    public Tensor Forward(Tensor hiddenStates, IReadOnlyList<Tensor> skips, Tensor temb, Tensor? encoderHiddenStates, long[]? upsampleSize)
    {
        ArgumentNullException.ThrowIfNull(skips);
        if (skips.Count != resnets.Count)
            throw new ArgumentException($"This up block consumes {resnets.Count} skip connections, got {skips.Count}.", nameof(skips));
        // Intermediate concatenations and activations die with this scope; only the level's output leaves it.
        using var scope = NewDisposeScope();
        var h = hiddenStates;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = cat(new[] { h, skips[skips.Count - 1 - i] }, 1);
            h = resnets[i].call(h, temb);
            if (attentions is not null)
            {
                if (encoderHiddenStates is null)
                    throw new ArgumentNullException(nameof(encoderHiddenStates), "A cross-attention up block needs the prompt embeddings.");
                h = attentions[i].call(h, encoderHiddenStates);
            }
        }
        if (upsamplers is not null) h = upsamplers[0].call(h, upsampleSize);
        return h.MoveToOuterDisposeScope();
    }
}
