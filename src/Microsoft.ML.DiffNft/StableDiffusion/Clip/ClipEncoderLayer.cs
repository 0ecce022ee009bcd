using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// One pre-LayerNorm transformer layer (<c>text_model.encoder.layers.{i}</c>):
/// x + self_attn(layer_norm1(x)), then x + mlp(layer_norm2(x)).
/// </summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ClipAttention self_attn;
    private readonly TorchSharp.Modules.LayerNorm layer_norm1;
    private readonly ClipMlp mlp;
    private readonly TorchSharp.Modules.LayerNorm layer_norm2;

    /// <summary>Creates the layer for <paramref name="config"/>.</summary>
    public ClipEncoderLayer(ClipTextConfig config) : base(nameof(ClipEncoderLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        self_attn = new ClipAttention(config);
        // transformers 4.9 built these LayerNorms with torch's default epsilon; later releases pass layer_norm_eps, whose
        // default is the same 1e-5, so both read the same for every published config.
        layer_norm1 = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        mlp = new ClipMlp(config);
        layer_norm2 = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>Applies the layer to [B, L, H]; <paramref name="mask"/> as in <see cref="ClipAttention.forward"/>.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        x = x + self_attn.call(layer_norm1.call(x), mask);
        x = x + mlp.call(layer_norm2.call(x));
        return x.MoveToOuterDisposeScope();
    }
}
