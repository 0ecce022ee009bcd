using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>
/// A small transformer over prompt tokens: token + learned position embeddings, pre-LN blocks, then a final LayerNorm.
/// Returns the token sequence (for cross-attention) and a pooled vector (mean over non-padding tokens, for FiLM).
/// Word order matters in captions ("body teal" vs "glasses teal"), which is why this is not a bag of words.
/// </summary>
internal sealed class TextEncoder : nn.Module<Tensor, (Tensor Tokens, Tensor Pooled)>
{
    private readonly int _padId;
    private readonly TorchSharp.Modules.Embedding tokenEmbedding;
    private readonly TorchSharp.Modules.Parameter positionEmbedding;
    private readonly TorchSharp.Modules.ModuleList<TransformerBlock> blocks;
    private readonly TorchSharp.Modules.LayerNorm finalNorm;

    public TextEncoder(int vocabSize, int maxTokens, int dim, int layers, int heads, int padId) : base(nameof(TextEncoder))
    {
        _padId = padId;
        tokenEmbedding = nn.Embedding(vocabSize, dim);
        positionEmbedding = nn.Parameter(randn(1, maxTokens, dim) * 0.02);
        blocks = nn.ModuleList(Enumerable.Range(0, layers).Select(_ => new TransformerBlock(dim, heads)).ToArray());
        finalNorm = nn.LayerNorm(dim);
        RegisterComponents();
    }

    /// <param name="ids">Token ids [B, L] (int64), padded with the pad id.</param>
    public override (Tensor Tokens, Tensor Pooled) forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long len = ids.shape[1];
        var h = tokenEmbedding.call(ids) + positionEmbedding.narrow(1, 0, len);
        foreach (var block in blocks)
            h = block.call(h);
        h = finalNorm.call(h);
        var mask = ids.ne(_padId).unsqueeze(-1).to_type(h.dtype);
        var pooled = (h * mask).sum(1) / mask.sum(1).clamp_min(1);
        return (h.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
    }
}

/// <summary>A pre-LN transformer block: x + MHA(LN(x)), then x + MLP(LN(x)) with GELU and a 4× hidden width.</summary>
internal sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly int _heads;
    private readonly TorchSharp.Modules.LayerNorm norm1;
    private readonly TorchSharp.Modules.Linear qkv;
    private readonly TorchSharp.Modules.Linear proj;
    private readonly TorchSharp.Modules.LayerNorm norm2;
    private readonly TorchSharp.Modules.Linear fc1;
    private readonly TorchSharp.Modules.Linear fc2;

    public TransformerBlock(int dim, int heads, int mlpRatio = 4) : base(nameof(TransformerBlock))
    {
        if (dim % heads != 0) throw new ArgumentException($"The width ({dim}) must be a multiple of the head count ({heads}).");
        _heads = heads;
        norm1 = nn.LayerNorm(dim);
        qkv = nn.Linear(dim, 3 * dim);
        proj = nn.Linear(dim, dim);
        norm2 = nn.LayerNorm(dim);
        fc1 = nn.Linear(dim, mlpRatio * dim);
        fc2 = nn.Linear(mlpRatio * dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = qkv.call(norm1.call(x)).chunk(3, -1);
        var attn = nn.functional.scaled_dot_product_attention(Heads.Split(parts[0], _heads), Heads.Split(parts[1], _heads), Heads.Split(parts[2], _heads));
        x = x + proj.call(Heads.Merge(attn));
        x = x + fc2.call(nn.functional.gelu(fc1.call(norm2.call(x))));
        return x.MoveToOuterDisposeScope();
    }
}
