using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>
/// Token plus learned position embeddings (<c>text_model.embeddings</c>): <c>token_embedding.weight</c> [vocab, H] and
/// <c>position_embedding.weight</c> [positions, H]. Position <c>i</c> of the input uses row <c>i</c>.
/// </summary>
/// <remarks>
/// transformers also keeps a buffer <c>position_ids</c> (int64 [1, positions], 0…positions−1). Checkpoints written by
/// older transformers releases store it in the weights file (Stable Diffusion 1.5's and 2.1's do); newer releases make it
/// non-persistent and leave it out. It is not a parameter and holds nothing a checkpoint can change, so this module does not
/// register it: see <see cref="ClipTextModel.IgnorableCheckpointTensors"/> for how a loader treats it.
/// </remarks>
internal sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding token_embedding;
    private readonly TorchSharp.Modules.Embedding position_embedding;

    /// <summary>Creates the embeddings for <paramref name="config"/> (randomly initialised, as torch's nn.Embedding).</summary>
    public ClipTextEmbeddings(ClipTextConfig config) : base(nameof(ClipTextEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        token_embedding = nn.Embedding(config.VocabSize, config.HiddenSize);
        position_embedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>Embeds ids [B, L] (int64, L ≤ positions) into [B, L, H].</summary>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        var positions = arange(length, dtype: int64, device: inputIds.device).unsqueeze(0);
        var h = token_embedding.call(inputIds) + position_embedding.call(positions);
        return h.MoveToOuterDisposeScope();
    }
}
