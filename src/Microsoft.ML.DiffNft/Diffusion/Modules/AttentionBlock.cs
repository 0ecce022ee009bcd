using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>
/// Self-attention over the pixels of a low-resolution feature map, then cross-attention from the pixels to the prompt's
/// token embeddings. Both use <c>scaled_dot_product_attention</c> (a hand-written softmax attention is ~23× slower at
/// 256 tokens on CPU) and zero-initialised output projections.
/// </summary>
internal sealed class AttentionBlock : nn.Module<Tensor, Tensor, Tensor>, IAttentionLayer
{
    private readonly int _heads;
    private readonly TorchSharp.Modules.GroupNorm norm;
    private readonly TorchSharp.Modules.Linear qkv;
    private readonly TorchSharp.Modules.Linear proj;
    private readonly TorchSharp.Modules.LayerNorm crossNorm;
    private readonly TorchSharp.Modules.Linear crossQ;
    private readonly TorchSharp.Modules.Linear crossKv;
    private readonly TorchSharp.Modules.Linear crossProj;

    public AttentionBlock(int channels, int textDim, int heads, int groups) : base(nameof(AttentionBlock))
    {
        if (channels % heads != 0)
            throw new ArgumentException($"Attention needs the channel count ({channels}) to be a multiple of the head count ({heads}).");
        _heads = heads;
        norm = Norms.GroupNorm(groups, channels);
        qkv = nn.Linear(channels, 3 * channels);
        proj = Norms.Zero(nn.Linear(channels, channels));
        crossNorm = nn.LayerNorm(channels);
        crossQ = nn.Linear(channels, channels);
        crossKv = nn.Linear(textDim, 2 * channels);
        crossProj = Norms.Zero(nn.Linear(channels, channels));
        RegisterComponents();
    }

    /// <param name="x">Feature map [B, C, H, W].</param>
    /// <param name="text">Prompt token embeddings [B, L, D].</param>
    public override Tensor forward(Tensor x, Tensor text)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var seq = norm.call(x).flatten(2).transpose(1, 2); // [B, N, C]
        var parts = qkv.call(seq).chunk(3, -1);
        var attn = nn.functional.scaled_dot_product_attention(Heads.Split(parts[0], _heads), Heads.Split(parts[1], _heads), Heads.Split(parts[2], _heads));
        var tokens = x.flatten(2).transpose(1, 2) + proj.call(Heads.Merge(attn));

        var q = crossQ.call(crossNorm.call(tokens));
        var kv = crossKv.call(text).chunk(2, -1);
        var cross = nn.functional.scaled_dot_product_attention(Heads.Split(q, _heads), Heads.Split(kv[0], _heads), Heads.Split(kv[1], _heads));
        tokens = tokens + crossProj.call(Heads.Merge(cross));
        return tokens.transpose(1, 2).reshape(b, c, h, w).MoveToOuterDisposeScope();
    }
}
