using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// Multi-head self-attention of a CLIP encoder layer (<c>self_attn</c>): separate <c>q_proj</c>, <c>k_proj</c>,
/// <c>v_proj</c> and <c>out_proj</c> linear layers with biases, as transformers names them, and attention through
/// <c>scaled_dot_product_attention</c> (its default scale 1/√head_dim is CLIP's).
/// </summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly int _heads;
    private readonly TorchSharp.Modules.Linear _q;
    private readonly TorchSharp.Modules.Linear _k;
    private readonly TorchSharp.Modules.Linear _v;
    private readonly TorchSharp.Modules.Linear _out;

    /// <summary>Creates the projections for <paramref name="config"/>.</summary>
    public ClipAttention(ClipTextConfig config) : base(nameof(ClipAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        _heads = config.NumAttentionHeads;
        int h = config.HiddenSize;
        _q = nn.Linear(h, h);
        _k = nn.Linear(h, h);
        _v = nn.Linear(h, h);
        _out = nn.Linear(h, h);
        register_module("q_proj", _q);
        register_module("k_proj", _k);
        register_module("v_proj", _v);
        register_module("out_proj", _out);
    }

    /// <summary>Attends over the sequence.</summary>
    /// <param name="x">Hidden states [B, L, H].</param>
    /// <param name="mask">
    /// Null for plain causal attention (the fused <c>is_causal</c> path); otherwise a boolean mask broadcastable to
    /// [B, heads, L, L], true where a query may attend to a key, which must already include the causal part.
    /// </param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1], h = x.shape[2];
        Tensor Split(Tensor t) => t.reshape(b, l, _heads, h / _heads).transpose(1, 2);
        // TorchSharp 0.107 spells sdpa's is_causal flag "is_casual".
        var attn = mask is null
            ? nn.functional.scaled_dot_product_attention(Split(_q.call(x)), Split(_k.call(x)), Split(_v.call(x)), is_casual: true)
            : nn.functional.scaled_dot_product_attention(Split(_q.call(x)), Split(_k.call(x)), Split(_v.call(x)), attn_mask: mask);
        return _out.call(attn.transpose(1, 2).reshape(b, l, h)).MoveToOuterDisposeScope();
    }
}
