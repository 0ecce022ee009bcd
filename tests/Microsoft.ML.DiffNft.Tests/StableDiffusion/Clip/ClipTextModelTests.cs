using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

public class ClipTextModelTests
{
    public ClipTextModelTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void TinyParameterNamesAndShapesAreTransformers()
    {
        using var model = new ClipTextModel(ClipTextConfig.Tiny);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => string.Join(",", p.parameter.shape));
        var expected = new Dictionary<string, string>
        {
            ["text_model.embeddings.token_embedding.weight"] = "1000,32",
            ["text_model.embeddings.position_embedding.weight"] = "77,32",
            ["text_model.final_layer_norm.weight"] = "32",
            ["text_model.final_layer_norm.bias"] = "32",
        };
        for (int i = 0; i < 5; i++)
        {
            string p = $"text_model.encoder.layers.{i}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                expected[p + $"self_attn.{proj}.weight"] = "32,32";
                expected[p + $"self_attn.{proj}.bias"] = "32";
            }
            foreach (var ln in new[] { "layer_norm1", "layer_norm2" })
            {
                expected[p + ln + ".weight"] = "32";
                expected[p + ln + ".bias"] = "32";
            }
            expected[p + "mlp.fc1.weight"] = "37,32";
            expected[p + "mlp.fc1.bias"] = "37";
            expected[p + "mlp.fc2.weight"] = "32,37";
            expected[p + "mlp.fc2.bias"] = "32";
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key), actual.OrderBy(kv => kv.Key));
        // position_ids is not a buffer here: a loader ignores it (see IgnorableCheckpointTensors).
        Assert.Empty(model.named_buffers());
        Assert.Contains("text_model.embeddings.position_ids", ClipTextModel.IgnorableCheckpointTensors);
    }

    [Fact]
    public void QuickGeluIsXTimesSigmoidOf1702XAndGeluIsExact()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { -3f, -1f, 0f, 0.5f, 2f });
        var q = ClipActivations.Apply(ClipActivation.QuickGelu, x).data<float>().ToArray();
        var g = ClipActivations.Apply(ClipActivation.Gelu, x).data<float>().ToArray();
        float[] xs = { -3f, -1f, 0f, 0.5f, 2f };
        for (int i = 0; i < xs.Length; i++)
        {
            double v = xs[i];
            Assert.Equal(v / (1 + Math.Exp(-1.702 * v)), q[i], 5);
            Assert.Equal(0.5 * v * (1 + Erf(v / Math.Sqrt(2))), g[i], 5);
        }
        // The tanh approximation would give 0.841192 at 1; the exact value is 0.841345.
        Assert.Equal(0.8413447, ClipActivations.Apply(ClipActivation.Gelu, tensor(1f)).item<float>(), 5);
    }

    // erf by its Maclaurin series, an independent check of torch's GELU (converges to double precision for |x| ≤ 3).
    private static double Erf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Fact]
    public void CausalLaterTokensDoNotChangeEarlierOutputs()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        using var model = new ClipTextModel(ClipTextConfig.Tiny);
        model.eval();
        var a = tensor(new long[] { 0, 5, 17, 400, 9, 2, 1, 1 }, new long[] { 1, 8 });
        var b = a.clone();
        b[0, 4] = tensor(777L);
        using var _ = no_grad();
        var ha = model.call(a);
        var hb = model.call(b);
        Assert.Equal(new long[] { 1, 8, 32 }, ha.shape);
        Assert.True(ha[.., ..4].allclose(hb[.., ..4], rtol: 0, atol: 1e-6), "positions before the change moved");
        Assert.False(ha[.., 4..].allclose(hb[.., 4..], rtol: 0, atol: 1e-3), "positions from the change on did not move");
    }

    [Fact]
    public void SdpaAttentionMatchesAnExplicitMaskedSoftmax()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var config = ClipTextConfig.Tiny;
        using var attn = new ClipAttention(config);
        var p = attn.named_parameters().ToDictionary(t => t.name, t => (Tensor)t.parameter);
        var x = randn(2, 6, 32);
        using var _ = no_grad();

        Tensor Explicit(Tensor additiveMask)
        {
            Tensor Proj(string n) => nn.functional.linear(x, p[n + ".weight"], p[n + ".bias"]).reshape(2, 6, 4, 8).transpose(1, 2);
            var scores = Proj("q_proj").matmul(Proj("k_proj").transpose(-1, -2)) / Math.Sqrt(8) + additiveMask;
            var o = scores.softmax(-1).matmul(Proj("v_proj")).transpose(1, 2).reshape(2, 6, 32);
            return nn.functional.linear(o, p["out_proj.weight"], p["out_proj.bias"]);
        }
        // The reference's causal mask: −∞ above the diagonal.
        var causal = full(6, 6, float.NegativeInfinity).triu(1);
        Assert.True(attn.call(x, null).allclose(Explicit(causal), rtol: 0, atol: 1e-5));

        // Causal plus padding (last two keys of the second prompt), as transformers builds it: float32 minimum on padding.
        var keep = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, new long[] { 2, 6 });
        var padding = keep.eq(0).to_type(float32).mul(float.MinValue).reshape(2, 1, 1, 6);
        var boolMask = ones(6, 6, dtype: @bool).tril().reshape(1, 1, 6, 6).logical_and(keep.ne(0).reshape(2, 1, 1, 6));
        Assert.True(attn.call(x, boolMask).allclose(Explicit(causal + padding), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void MasksAndHiddenStatesAgreeWithForward()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        using var model = new ClipTextModel(ClipTextConfig.Tiny);
        var ids = tensor(new long[] { 0, 5, 17, 2, 1, 1, 0, 9, 8, 7, 6, 2 }, new long[] { 2, 6 });
        using var _ = no_grad();
        var h = model.call(ids);
        // An all-ones mask hides nothing.
        Assert.True(model.Forward(ids, ones_like(ids)).allclose(h, rtol: 0, atol: 1e-5));
        // The last layer's state through the final norm is the last hidden state; layer 0 is the embeddings.
        Assert.True(model.FinalLayerNorm(model.HiddenState(ids, 5)).allclose(h, rtol: 0, atol: 1e-6));
        var emb = model.named_parameters().ToDictionary(t => t.name, t => (Tensor)t.parameter);
        var expected0 = emb["text_model.embeddings.token_embedding.weight"].index_select(0, ids.flatten()).reshape(2, 6, 32)
            + emb["text_model.embeddings.position_embedding.weight"][..6];
        Assert.True(model.HiddenState(ids, 0).allclose(expected0, rtol: 0, atol: 1e-6));
        // A padding mask changes only the positions after the padding starts… and not the real tokens before it.
        var mask = tensor(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, new long[] { 2, 6 });
        var masked = model.Forward(ids, mask);
        Assert.True(masked[.., ..4].allclose(h[.., ..4], rtol: 0, atol: 1e-5));
        Assert.False(masked[0, 4..].allclose(h[0, 4..], rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void BadInputsAreRejectedWithClearMessages()
    {
        using var model = new ClipTextModel(ClipTextConfig.Tiny);
        var ex = Assert.Throws<ArgumentException>(() => model.call(zeros(1, 78, dtype: int64)));
        Assert.Contains("77", ex.Message);
        Assert.Throws<ArgumentException>(() => model.call(zeros(1, 5, dtype: int32)));
        Assert.Throws<ArgumentException>(() => model.Forward(zeros(1, 5, dtype: int64), ones(1, 4, dtype: int64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.HiddenState(zeros(1, 5, dtype: int64), 6));
        Assert.Throws<InvalidDataException>(() => new ClipTextModel(ClipTextConfig.Tiny with { NumAttentionHeads = 5 }));
    }
}
