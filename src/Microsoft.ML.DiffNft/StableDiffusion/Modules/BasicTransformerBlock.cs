using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>BasicTransformerBlock</c> as Stable Diffusion uses it (LayerNorm, no attention bias, GEGLU): pre-norm
/// self-attention, pre-norm cross-attention to the prompt, pre-norm feed-forward, each added to the residual stream.
/// Parameters: <c>norm1</c>, <c>attn1</c>, <c>norm2</c>, <c>attn2</c>, <c>norm3</c>, <c>ff</c>.
/// </summary>
internal sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LayerNorm norm1;
    private readonly Attention attn1;
    private readonly TorchSharp.Modules.LayerNorm norm2;
    private readonly Attention attn2;
    private readonly TorchSharp.Modules.LayerNorm norm3;
    private readonly FeedForward ff;

    /// <summary>Builds the block.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="dim">Token width (heads × headDim).</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Channels per head.</param>
    /// <param name="crossAttentionDim">Width of the prompt embeddings.</param>
    /// <param name="upcastAttention">Compute attention in float32 for half-precision inputs.</param>
    public BasicTransformerBlock(LayerFactory layers, int dim, int heads, int headDim, int crossAttentionDim, bool upcastAttention)
        : base(nameof(BasicTransformerBlock))
    {
        ArgumentNullException.ThrowIfNull(layers);
        norm1 = layers.LayerNorm(dim);
        attn1 = new Attention(layers, dim, null, heads, headDim, bias: false, upcastAttention);
        norm2 = layers.LayerNorm(dim);
        attn2 = new Attention(layers, dim, crossAttentionDim, heads, headDim, bias: false, upcastAttention);
        norm3 = layers.LayerNorm(dim);
        ff = new FeedForward(layers, dim);
        RegisterComponents();
    }

    /// <summary>The self-attention (exposed for LoRA).</summary>
    public Attention SelfAttention => attn1;

    /// <summary>The cross-attention to the prompt (exposed for LoRA).</summary>
    public Attention CrossAttention => attn2;

    /// <summary>Applies the block.</summary>
    /// <param name="hiddenStates">Tokens [B, N, dim].</param>
    /// <param name="encoderHiddenStates">Prompt embeddings [B, L, crossAttentionDim].</param>
    public override Tensor forward(Tensor hiddenStates, Tensor encoderHiddenStates)
    {
        using var scope = NewDisposeScope();
        var h = attn1.call(norm1.call(hiddenStates), null) + hiddenStates;
        h = attn2.call(norm2.call(h), encoderHiddenStates) + h;
        h = ff.call(norm3.call(h)) + h;
        return h.MoveToOuterDisposeScope();
    }
}
