using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// One pre-LayerNorm transformer layer (<c>text_model.encoder.layers.{i}</c>):
/// x + self_attn(layer_norm1(x)), then x + mlp(layer_norm2(x)).
/// </summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ClipAttention _selfAttn;
    private readonly TorchSharp.Modules.LayerNorm _layerNorm1;
    private readonly ClipMlp _mlp;
    private readonly TorchSharp.Modules.LayerNorm _layerNorm2;

    /// <summary>Creates the layer for <paramref name="config"/>.</summary>
    public ClipEncoderLayer(ClipTextConfig config) : base(nameof(ClipEncoderLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        _selfAttn = new ClipAttention(config);
        // transformers 4.9 built these LayerNorms with torch's default epsilon; later releases pass layer_norm_eps, whose
        // default is the same 1e-5, so both read the same for every published config.
        _layerNorm1 = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        _mlp = new ClipMlp(config);
        _layerNorm2 = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        register_module("self_attn", _selfAttn);
        register_module("layer_norm1", _layerNorm1);
        register_module("mlp", _mlp);
        register_module("layer_norm2", _layerNorm2);
    }

    /// <summary>Applies the layer to [B, L, H]; <paramref name="mask"/> as in <see cref="ClipAttention.forward"/>.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        x = x + _selfAttn.call(_layerNorm1.call(x), mask);
        x = x + _mlp.call(_layerNorm2.call(x));
        return x.MoveToOuterDisposeScope();
    }
}
