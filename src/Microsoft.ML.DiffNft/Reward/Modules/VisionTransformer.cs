using Microsoft.ML.DiffNft.Diffusion.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward.Modules;

/// <summary>
/// A Vision Transformer backbone: a patch embedding (<see cref="PatchEmbedding"/>: linear, or a convolutional stem) turns
/// the image into a grid of tokens, learned position embeddings are added, pre-LN transformer blocks (scaled-dot-product attention, GELU MLP)
/// mix the tokens, and a final LayerNorm precedes pooling (mean of the patch tokens, or a class token).
/// </summary>
/// <remarks>Input: preprocessed images [N, 3, S, S] (see <see cref="RewardPreprocessing.Prepare"/>); output: embeddings [N, Dim].</remarks>
internal sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly VitPooling _pooling;
    private readonly PatchEmbedding patchEmbedding;
    private readonly TorchSharp.Modules.Parameter positionEmbedding;
    private readonly TorchSharp.Modules.Parameter? classToken;
    private readonly TorchSharp.Modules.ModuleList<TransformerBlock> blocks;
    private readonly TorchSharp.Modules.LayerNorm finalNorm;

    public VisionTransformer(VitOptions options) : base(nameof(VisionTransformer))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _pooling = options.Pooling;
        patchEmbedding = new PatchEmbedding(options);
        int tokens = options.PatchCount + (options.Pooling == VitPooling.ClassToken ? 1 : 0);
        // Small random position and class embeddings (std 0.02), as in ViT; zeros would make every position alike.
        // Detached: a parameter wraps its tensor's native handle, so a dispose scope open around construction must
        // not free it.
        positionEmbedding = nn.Parameter((randn(1, tokens, options.Dim) * 0.02).DetachFromDisposeScope());
        if (options.Pooling == VitPooling.ClassToken)
            classToken = nn.Parameter((randn(1, 1, options.Dim) * 0.02).DetachFromDisposeScope());
        blocks = nn.ModuleList(Enumerable.Range(0, options.Depth)
            .Select(_ => new TransformerBlock(options.Dim, options.Heads, options.MlpRatio)).ToArray());
        finalNorm = nn.LayerNorm(options.Dim);
        RegisterComponents();
        LayerNorms.Initialise(this);
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var h = patchEmbedding.call(images); // [N, T, D]
        if (classToken is not null)
            h = cat(new[] { classToken.expand(h.shape[0], -1, -1), h }, 1);
        h = h + positionEmbedding;
        foreach (var block in blocks)
            h = block.call(h);
        h = finalNorm.call(h);
        var pooled = _pooling == VitPooling.ClassToken ? h.select(1, 0) : h.mean(new long[] { 1 });
        return pooled.MoveToOuterDisposeScope();
    }
}
