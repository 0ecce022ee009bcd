using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>Transformer2DModel</c> for continuous input: GroupNorm (epsilon 1e-6), <c>proj_in</c>, the pixels as tokens
/// through <c>transformer_blocks</c>, <c>proj_out</c>, plus the input. The projections are 1×1 convolutions (SD 1.x) or
/// Linear layers (<c>use_linear_projection</c>, SD 2.x); diffusers applies a convolution before flattening to tokens and
/// a Linear after, and this does the same. Parameters: <c>norm</c>, <c>proj_in</c>, <c>transformer_blocks.{i}</c>, <c>proj_out</c>.
/// </summary>
internal sealed class Transformer2DModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly bool _linearProjection;
    private readonly TorchSharp.Modules.GroupNorm norm;
    private readonly nn.Module<Tensor, Tensor> proj_in;
    private readonly TorchSharp.Modules.ModuleList<BasicTransformerBlock> transformer_blocks;
    private readonly nn.Module<Tensor, Tensor> proj_out;

    /// <summary>Builds the model.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Channels per head.</param>
    /// <param name="inChannels">Channels of the feature map.</param>
    /// <param name="numLayers">Number of transformer blocks (<c>transformer_layers_per_block</c>).</param>
    /// <param name="crossAttentionDim">Width of the prompt embeddings.</param>
    /// <param name="normGroups">GroupNorm groups.</param>
    /// <param name="useLinearProjection">Linear instead of 1×1 conv projections.</param>
    /// <param name="upcastAttention">Compute attention in float32 for half-precision inputs.</param>
    public Transformer2DModel(
        LayerFactory layers, int heads, int headDim, int inChannels, int numLayers, int crossAttentionDim, int normGroups,
        bool useLinearProjection, bool upcastAttention)
        : base(nameof(Transformer2DModel))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "A Transformer2DModel needs at least one block.");
        _linearProjection = useLinearProjection;
        int inner = heads * headDim;
        norm = layers.GroupNorm(normGroups, inChannels, 1e-6);
        proj_in = useLinearProjection ? layers.Linear(inChannels, inner) : layers.Conv2d(inChannels, inner, 1);
        var blocks = new BasicTransformerBlock[numLayers];
        for (int i = 0; i < numLayers; i++)
            blocks[i] = new BasicTransformerBlock(layers, inner, heads, headDim, crossAttentionDim, upcastAttention);
        transformer_blocks = nn.ModuleList(blocks);
        proj_out = useLinearProjection ? layers.Linear(inner, inChannels) : layers.Conv2d(inner, inChannels, 1);
        RegisterComponents();
    }

    /// <summary>The transformer blocks (exposed for LoRA).</summary>
    public IReadOnlyList<BasicTransformerBlock> Blocks => transformer_blocks.ToList();

    /// <summary>Applies the model.</summary>
    /// <param name="hiddenStates">Feature map [B, C, H, W].</param>
    /// <param name="encoderHiddenStates">Prompt embeddings [B, L, D].</param>
    /// <returns>[B, C, H, W].</returns>
    public override Tensor forward(Tensor hiddenStates, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        long b = hiddenStates.shape[0], height = hiddenStates.shape[2], width = hiddenStates.shape[3];
        var h = norm.call(hiddenStates);
        if (!_linearProjection) h = proj_in.call(h);
        long inner = h.shape[1];
        h = h.permute(0, 2, 3, 1).reshape(b, height * width, inner);
        if (_linearProjection) h = proj_in.call(h);
        foreach (var block in transformer_blocks) h = block.call(h, encoderHiddenStates);
        if (_linearProjection) h = proj_out.call(h);
        h = h.reshape(b, height, width, -1).permute(0, 3, 1, 2).contiguous();
        if (!_linearProjection) h = proj_out.call(h);
        return (h + hiddenStates).MoveToOuterDisposeScope();
    }
}
