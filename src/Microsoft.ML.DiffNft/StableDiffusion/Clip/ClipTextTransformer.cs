using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// transformers' <c>CLIPTextTransformer</c> (the <c>text_model</c> of <see cref="ClipTextModel"/>): <c>embeddings</c>,
/// <c>encoder</c> with a causal mask, <c>final_layer_norm</c>.
/// </summary>
internal sealed class ClipTextTransformer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ClipTextEmbeddings embeddings;
    private readonly ClipEncoder encoder;
    private readonly TorchSharp.Modules.LayerNorm final_layer_norm;

    /// <summary>Creates the transformer for <paramref name="config"/>.</summary>
    public ClipTextTransformer(ClipTextConfig config) : base(nameof(ClipTextTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        embeddings = new ClipTextEmbeddings(config);
        encoder = new ClipEncoder(config);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>The last hidden state [B, L, H] after <c>final_layer_norm</c>.</summary>
    /// <param name="inputIds">Validated ids [B, L] (int64).</param>
    /// <param name="attentionMask">Null, or a validated [B, L] mask (non-zero = real token) that hides padding keys.</param>
    public override Tensor forward(Tensor inputIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        var h = HiddenState(inputIds, attentionMask, encoder.Count);
        return final_layer_norm.call(h).MoveToOuterDisposeScope();
    }

    /// <summary>transformers' <c>hidden_states[layer]</c>: 0 is the embeddings, <c>i</c> the output of layer <c>i</c> (no final norm).</summary>
    public Tensor HiddenState(Tensor inputIds, Tensor? attentionMask, int layer)
    {
        using var scope = NewDisposeScope();
        var mask = attentionMask is null ? null : CausalPaddingMask(attentionMask);
        var h = encoder.Run(embeddings.call(inputIds), mask, layer);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Applies <c>final_layer_norm</c> (for callers that take an earlier layer's state, as "CLIP skip" does).</summary>
    public Tensor FinalLayerNorm(Tensor hidden) => final_layer_norm.call(hidden);

    /// <summary>
    /// Causal and padding masks combined into one boolean [B, 1, L, L] (true = may attend). The reference adds a −∞ causal
    /// mask and a dtype-minimum padding mask to the scores; both give a weight of exactly 0 after the softmax, as false does.
    /// The BOS key at position 0 is always visible, so no row is fully masked.
    /// </summary>
    private static Tensor CausalPaddingMask(Tensor attentionMask)
    {
        long l = attentionMask.shape[1];
        var causal = ones(l, l, dtype: @bool, device: attentionMask.device).tril();
        var keys = attentionMask.ne(0).unsqueeze(1).unsqueeze(1); // [B, 1, 1, L]
        return causal.unsqueeze(0).unsqueeze(0).logical_and(keys);
    }
}
