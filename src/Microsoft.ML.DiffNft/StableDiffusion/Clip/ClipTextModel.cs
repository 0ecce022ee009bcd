using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// The CLIP text encoder of Stable Diffusion (transformers' <c>CLIPTextModel</c>), with transformers' parameter names so
/// that a diffusers folder's <c>text_encoder/model.safetensors</c> loads without renaming:
/// <c>text_model.embeddings.{token,position}_embedding.weight</c>,
/// <c>text_model.encoder.layers.{i}.self_attn.{q,k,v,out}_proj.{weight,bias}</c>,
/// <c>text_model.encoder.layers.{i}.{layer_norm1,layer_norm2,mlp.fc1,mlp.fc2}.{weight,bias}</c>,
/// <c>text_model.final_layer_norm.{weight,bias}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Stable Diffusion conditions on the last hidden state (<see cref="forward"/>): for SD 1.x the 12th of 12 layers, for
/// SD 2.x the 23rd layer, because diffusers' SD 2.x folders already store <c>num_hidden_layers</c> = 23 (OpenCLIP's
/// penultimate layer), so the same call serves both. <see cref="HiddenState"/> gives any earlier layer for callers that
/// want more ("CLIP skip").
/// </para>
/// <para>
/// Attention is causal, as CLIP was trained: position <c>i</c> sees positions 0…i only, through
/// <c>scaled_dot_product_attention</c>. Padding is attended to unless an attention mask is passed, which is what diffusers
/// does for Stable Diffusion (it passes the mask only when the config sets <c>use_attention_mask</c>).
/// </para>
/// </remarks>
internal sealed class ClipTextModel : nn.Module<Tensor, Tensor>
{
    /// <summary>
    /// Names a checkpoint may hold that this module does not: transformers' <c>position_ids</c> buffer (int64 [1, 77],
    /// 0…76), written by older transformers releases (SD 1.5's and 2.1's weights have it), non-persistent in newer ones.
    /// It carries nothing learned, so a loader should accept it when present and ignore it (not required, not loaded).
    /// </summary>
    public static IReadOnlySet<string> IgnorableCheckpointTensors { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "text_model.embeddings.position_ids" };

    private readonly ClipTextTransformer text_model;

    /// <summary>Creates a randomly initialised encoder for <paramref name="config"/> (validated first).</summary>
    /// <exception cref="InvalidDataException">The config cannot build an encoder (see <see cref="ClipTextConfig.Validate"/>).</exception>
    public ClipTextModel(ClipTextConfig config) : base(nameof(ClipTextModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        text_model = new ClipTextTransformer(config);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>The configuration the encoder was built from.</summary>
    public ClipTextConfig Config { get; }

    /// <summary>
    /// Encodes token ids into the last hidden state (after <c>final_layer_norm</c>), what Stable Diffusion passes to the
    /// UNet as <c>encoder_hidden_states</c>.
    /// </summary>
    /// <param name="inputIds">Ids [B, L], int64, 1 ≤ L ≤ <see cref="ClipTextConfig.MaxPositionEmbeddings"/>.</param>
    /// <returns>[B, L, <see cref="ClipTextConfig.HiddenSize"/>] in the parameters' dtype.</returns>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds, null);

    /// <summary>As <see cref="forward"/>, optionally hiding padding keys with an attention mask.</summary>
    /// <param name="inputIds">Ids [B, L], int64.</param>
    /// <param name="attentionMask">Null, or [B, L] of any integer or boolean dtype: non-zero for real tokens, 0 for padding.</param>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask)
    {
        CheckInputs(inputIds, attentionMask);
        return text_model.call(inputIds, attentionMask);
    }

    /// <summary>
    /// transformers' <c>hidden_states[layer]</c> (what <c>output_hidden_states=True</c> returns): 0 is the embeddings' output,
    /// <c>i</c> ≥ 1 the output of encoder layer <c>i</c>, without <c>final_layer_norm</c>. Only the first
    /// <paramref name="layer"/> layers run.
    /// </summary>
    /// <param name="inputIds">Ids [B, L], int64.</param>
    /// <param name="layer">0 … <see cref="ClipTextConfig.NumHiddenLayers"/>.</param>
    /// <param name="attentionMask">As in <see cref="Forward"/>.</param>
    public Tensor HiddenState(Tensor inputIds, int layer, Tensor? attentionMask = null)
    {
        CheckInputs(inputIds, attentionMask);
        if (layer < 0 || layer > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be 0…{Config.NumHiddenLayers} (0 = embeddings).");
        return text_model.HiddenState(inputIds, attentionMask, layer);
    }

    /// <summary>Applies the encoder's <c>final_layer_norm</c> to a hidden state from <see cref="HiddenState"/>.</summary>
    public Tensor FinalLayerNorm(Tensor hidden)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        return text_model.FinalLayerNorm(hidden);
    }

    private void CheckInputs(Tensor inputIds, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.dim() != 2 || inputIds.dtype != int64)
            throw new ArgumentException(
                $"inputIds must be int64 [batch, length], found {inputIds.dtype} [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        long len = inputIds.shape[1];
        if (len < 1 || len > Config.MaxPositionEmbeddings || inputIds.shape[0] < 1)
            throw new ArgumentException(
                $"inputIds [{string.Join(", ", inputIds.shape)}] must have a batch of at least 1 and 1…{Config.MaxPositionEmbeddings} tokens " +
                "(max_position_embeddings).", nameof(inputIds));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException(
                $"attentionMask [{string.Join(", ", attentionMask.shape)}] must have the shape of inputIds [{string.Join(", ", inputIds.shape)}].",
                nameof(attentionMask));
    }
}
