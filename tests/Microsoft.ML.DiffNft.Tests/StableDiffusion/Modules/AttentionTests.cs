using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

/// <summary>The attention layers against softmax(QKᵀ/√d)V written out with plain tensor ops.</summary>
public class AttentionTests
{
    private static Tensor Weight(nn.Module m, string name) => m.named_parameters().Single(p => p.name == name).parameter;

    private static Tensor Linear(Tensor x, nn.Module m, string prefix, bool bias)
    {
        var y = matmul(x, Weight(m, prefix + ".weight").t());
        return bias ? y + Weight(m, prefix + ".bias") : y;
    }

    // Explicit multi-head attention: [B, N, C] queries, [B, L, D] context.
    private static Tensor Explicit(Attention attn, Tensor x, Tensor context, int heads, bool bias)
    {
        var q = Linear(x, attn, "to_q", bias);
        var k = Linear(context, attn, "to_k", bias);
        var v = Linear(context, attn, "to_v", bias);
        long b = x.shape[0], d = q.shape[2] / heads;
        Tensor Split(Tensor t) => t.reshape(b, t.shape[1], heads, d).permute(0, 2, 1, 3);
        var scores = matmul(Split(q), Split(k).transpose(-1, -2)) / Math.Sqrt(d);
        var weights = scores.softmax(-1);
        var o = matmul(weights, Split(v)).permute(0, 2, 1, 3).reshape(b, x.shape[1], heads * d);
        return Linear(o, attn, "to_out.0", bias: true);
    }

    [Fact]
    public void CrossAttentionEqualsTheExplicitFormula()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var attn = new Attention(LayerFactory.Default, queryDim: 16, crossAttentionDim: 12, heads: 4, headDim: 6, bias: false);
        var x = randn(2, 5, 16);
        var ctx = randn(2, 7, 12);
        using var _ = no_grad();
        var actual = attn.call(x, ctx);
        Assert.Equal(new long[] { 2, 5, 16 }, actual.shape);
        Assert.True(allclose(actual, Explicit(attn, x, ctx, 4, bias: false), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void SelfAttentionEqualsTheExplicitFormula()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var attn = new Attention(LayerFactory.Default, queryDim: 8, crossAttentionDim: null, heads: 2, headDim: 4, bias: false);
        var x = randn(3, 9, 8);
        using var _ = no_grad();
        Assert.True(allclose(attn.call(x, null), Explicit(attn, x, x, 2, bias: false), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void TheVaeAttentionNormalisesFlattensAddsTheInputAndRestoresTheMap()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var attn = new Attention(LayerFactory.Default, 32, null, heads: 1, headDim: 32, bias: true, normGroups: 8, normEps: 1e-6, residualConnection: true);
        using (no_grad())
        {
            // Non-trivial affine GroupNorm parameters, so that a wrong normalisation axis shows.
            Weight(attn, "group_norm.weight").copy_(rand(32) + 0.5);
            Weight(attn, "group_norm.bias").copy_(randn(32));
        }
        var x = randn(2, 32, 3, 5);
        using var _ = no_grad();
        var normed = nn.functional.group_norm(x, 8, Weight(attn, "group_norm.weight"), Weight(attn, "group_norm.bias"), 1e-6);
        var tokens = normed.flatten(2).transpose(1, 2);
        var expected = Explicit(attn, tokens, tokens, 1, bias: true).transpose(1, 2).reshape(2, 32, 3, 5) + x;
        var actual = attn.call(x, null);
        Assert.Equal(x.shape, actual.shape);
        Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void UpcastAttentionRunsHalfInputsInFloat32AndReturnsTheInputDtype()
    {
        using var scope = NewDisposeScope();
        manual_seed(14);
        using var attn = new Attention(LayerFactory.Default, 16, 16, heads: 2, headDim: 8, bias: false, upcastAttention: true);
        var x = randn(1, 6, 16);
        var ctx = randn(1, 4, 16);
        using var _ = no_grad();
        var reference = attn.call(x, ctx);
        attn.to(ScalarType.BFloat16);
        var half = attn.call(x.to_type(ScalarType.BFloat16), ctx.to_type(ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, half.dtype);
        // bfloat16 keeps ~3 significant digits through the projections.
        Assert.True(allclose(half.to_type(ScalarType.Float32), reference, rtol: 0.05, atol: 0.05));
    }

    [Fact]
    public void GegluIsValueTimesExactGeluOfTheGate()
    {
        using var scope = NewDisposeScope();
        manual_seed(15);
        using var geglu = new GEGLU(LayerFactory.Default, 6, 10);
        var x = randn(4, 6) * 3;
        using var _ = no_grad();
        var projected = Linear(x, geglu, "proj", bias: true);
        var value = projected[.., ..10];
        var gate = projected[.., 10..];
        var exact = value * (0.5 * gate * (1 + special.erf(gate / Math.Sqrt(2))));
        var tanhApprox = value * (0.5 * gate * (1 + tanh(Math.Sqrt(2 / Math.PI) * (gate + 0.044715 * gate.pow(3)))));
        var actual = geglu.call(x);
        Assert.True(allclose(actual, exact, rtol: 1e-5, atol: 1e-6));
        Assert.False(allclose(actual, tanhApprox, rtol: 1e-6, atol: 1e-6), "GEGLU must use the exact GELU, not the tanh approximation");
    }
}
