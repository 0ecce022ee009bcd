namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// How the cross-attention blocks of one UNet level are built (the <c>CrossAttn*Block2D</c> arguments).
/// </summary>
/// <param name="Heads">Attention heads; each has <c>channels / Heads</c> channels, as in diffusers' blocks.</param>
/// <param name="Layers">Transformer blocks per <see cref="Transformer2DModel"/> (<c>transformer_layers_per_block</c>).</param>
/// <param name="CrossAttentionDim">Width of the prompt embeddings.</param>
/// <param name="UseLinearProjection">Linear instead of 1×1 conv projections.</param>
/// <param name="UpcastAttention">Compute attention in float32 for half-precision inputs.</param>
internal sealed record TransformerSettings(int Heads, int Layers, int CrossAttentionDim, bool UseLinearProjection, bool UpcastAttention)
{
    /// <summary>Builds one <see cref="Transformer2DModel"/> over <paramref name="channels"/> channels.</summary>
    public Transformer2DModel Build(LayerFactory layers, int channels, int groups)
    {
        if (channels % Heads != 0)
            throw new ArgumentException($"A cross-attention block with {channels} channels cannot be split into {Heads} heads (attention_head_dim / num_attention_heads must divide the block's channels).");
        return new Transformer2DModel(layers, Heads, channels / Heads, channels, Layers, CrossAttentionDim, groups, UseLinearProjection, UpcastAttention);
    }
}
