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
    // Declared in transformers' order (k, v, q, out): registration follows declaration, so our parameter order is theirs.
    private readonly TorchSharp.Modules.Linear k_proj;
    private readonly TorchSharp.Modules.Linear v_proj;
    private readonly TorchSharp.Modules.Linear q_proj;
    private readonly TorchSharp.Modules.Linear out_proj;

    /// <summary>Creates the projections for <paramref name="config"/>.</summary>
    public ClipAttention(ClipTextConfig config) : base(nameof(ClipAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        _heads = config.NumAttentionHeads;
        int h = config.HiddenSize;
        k_proj = nn.Linear(h, h);
        v_proj = nn.Linear(h, h);
        q_proj = nn.Linear(h, h);
        out_proj = nn.Linear(h, h);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
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
            ? nn.functional.scaled_dot_product_attention(Split(q_proj.call(x)), Split(k_proj.call(x)), Split(v_proj.call(x)), is_casual: true)
            : nn.functional.scaled_dot_product_attention(Split(q_proj.call(x)), Split(k_proj.call(x)), Split(v_proj.call(x)), attn_mask: mask);
        return out_proj.call(attn.transpose(1, 2).reshape(b, l, h)).MoveToOuterDisposeScope();
    }
}
