using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>Attention</c> with its default scaled-dot-product processor: multi-head attention from the input to
/// itself or to a context (cross-attention), computed with <c>scaled_dot_product_attention</c> (scale 1/√head_dim).
/// Parameters: <c>to_q</c>, <c>to_k</c>, <c>to_v</c> (biases only when <c>bias</c>), <c>to_out.0</c> (with bias; <c>to_out.1</c>
/// is a parameter-free dropout), and <c>group_norm</c> when built with groups (the VAE's mid-block attention, whose
/// old checkpoints call these <c>query</c>/<c>key</c>/<c>value</c>/<c>proj_attn</c> — renaming them is the loader's job).
/// </summary>
internal sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>, Diffusion.Modules.IAttentionLayer
{
    private readonly int _heads;
    private readonly int _headDim;
    private readonly bool _upcast;
    private readonly bool _residual;
    private readonly double _rescaleOutputFactor;

    // Field names are the diffusers parameter names.
    private readonly TorchSharp.Modules.GroupNorm? group_norm;
    private readonly TorchSharp.Modules.Linear to_q;
    private readonly TorchSharp.Modules.Linear to_k;
    private readonly TorchSharp.Modules.Linear to_v;
    private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> to_out;

    /// <summary>Builds the layer.</summary>
    /// <param name="layers">Where and in which dtype to create the parameters.</param>
    /// <param name="queryDim">Channels of the input (and of the output).</param>
    /// <param name="crossAttentionDim">Channels of the context, or <c>null</c> for self-attention.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="headDim">Channels per head; the inner width is heads × headDim.</param>
    /// <param name="bias">Whether <c>to_q/k/v</c> have biases (false in transformer blocks, true in the VAE).</param>
    /// <param name="upcastAttention">Compute the attention itself in float32 when the inputs are half precision (SD 2.x's <c>upcast_attention</c>).</param>
    /// <param name="normGroups">When set, a GroupNorm (<c>group_norm</c>) over the input channels comes first.</param>
    /// <param name="normEps">Epsilon of that GroupNorm.</param>
    /// <param name="residualConnection">Add the input to the output (the VAE's mid-block attention).</param>
    /// <param name="rescaleOutputFactor">The output is divided by this.</param>
    public Attention(
        LayerFactory layers, int queryDim, int? crossAttentionDim, int heads, int headDim, bool bias, bool upcastAttention = false,
        int? normGroups = null, double normEps = 1e-5, bool residualConnection = false, double rescaleOutputFactor = 1.0)
        : base(nameof(Attention))
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (heads <= 0) throw new ArgumentOutOfRangeException(nameof(heads), heads, "Attention needs at least one head.");
        if (headDim <= 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "The head dimension must be positive.");
        if (!(rescaleOutputFactor > 0))
            throw new ArgumentOutOfRangeException(nameof(rescaleOutputFactor), rescaleOutputFactor, "The output rescale factor must be positive.");
        _heads = heads;
        _headDim = headDim;
        _upcast = upcastAttention;
        _residual = residualConnection;
        _rescaleOutputFactor = rescaleOutputFactor;
        int inner = heads * headDim;
        int contextDim = crossAttentionDim ?? queryDim;
        group_norm = normGroups is int g ? layers.GroupNorm(g, queryDim, normEps) : null;
        to_q = layers.Linear(queryDim, inner, bias);
        to_k = layers.Linear(contextDim, inner, bias);
        to_v = layers.Linear(contextDim, inner, bias);
        // diffusers' to_out is [Linear, Dropout]; keeping the dropout slot keeps the Linear at index "0".
        to_out = nn.ModuleList<nn.Module<Tensor, Tensor>>(layers.Linear(inner, queryDim), nn.Dropout(0.0));
        RegisterComponents();
    }

    /// <summary>Number of heads.</summary>
    public int Heads => _heads;

    /// <summary>The query projection (exposed for LoRA).</summary>
    public TorchSharp.Modules.Linear ToQ => to_q;

    /// <summary>The key projection (exposed for LoRA).</summary>
    public TorchSharp.Modules.Linear ToK => to_k;

    /// <summary>The value projection (exposed for LoRA).</summary>
    public TorchSharp.Modules.Linear ToV => to_v;

    /// <summary>The output projection <c>to_out.0</c> (exposed for LoRA).</summary>
    public TorchSharp.Modules.Linear ToOut => (TorchSharp.Modules.Linear)to_out[0];

    /// <summary>Attends.</summary>
    /// <param name="input">Tokens [B, N, C] or a feature map [B, C, H, W] (flattened to H·W tokens and restored).</param>
    /// <param name="context">Context tokens [B, L, D] for cross-attention, or <c>null</c> for self-attention.</param>
    /// <returns>The same shape as <paramref name="input"/>.</returns>
    public override Tensor forward(Tensor input, Tensor? context)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0];
        bool spatial = input.dim() == 4;
        var h = spatial ? input.view(b, input.shape[1], -1).transpose(1, 2) : input;
        if (group_norm is not null)
            h = group_norm.call(h.transpose(1, 2)).transpose(1, 2);
        var q = to_q.call(h);
        var kvSource = context ?? h;
        var k = to_k.call(kvSource);
        var v = to_v.call(kvSource);
        q = q.view(b, -1, _heads, _headDim).transpose(1, 2);
        k = k.view(b, -1, _heads, _headDim).transpose(1, 2);
        v = v.view(b, -1, _heads, _headDim).transpose(1, 2);
        var dtype = q.dtype;
        bool upcast = _upcast && (dtype == ScalarType.Float16 || dtype == ScalarType.BFloat16);
        if (upcast)
        {
            // Half-precision QKᵀ overflows for SD 2.x's wide heads; the softmax-weighted sum is done in float32.
            q = q.to_type(ScalarType.Float32);
            k = k.to_type(ScalarType.Float32);
            v = v.to_type(ScalarType.Float32);
        }
        var attended = nn.functional.scaled_dot_product_attention(q, k, v);
        if (upcast) attended = attended.to_type(dtype);
        attended = attended.transpose(1, 2).reshape(b, -1, _heads * _headDim);
        var output = to_out[1].call(to_out[0].call(attended));
        if (spatial) output = output.transpose(-1, -2).reshape(input.shape);
        if (_residual) output = output + input;
        if (_rescaleOutputFactor != 1.0) output = output / _rescaleOutputFactor;
        return output.MoveToOuterDisposeScope();
    }
}
