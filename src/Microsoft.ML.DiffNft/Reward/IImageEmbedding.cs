using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// A reward that also maps images to feature vectors — the rarity ViT's pooled embedding — in which nearby images look
/// alike to the reward. Fine-tuning measures how crowded a sample's neighbourhood is in this space
/// (<see cref="FineTuning.CrowdingPenalty"/>). Wrappers pass the call to the reward they wrap.
/// </summary>
internal interface IImageEmbedding
{
    /// <summary>
    /// float32 [N, D] embeddings of float32 [N, 3, H, W] images in [−1, 1], without gradients; null when this reward
    /// has no embedding (a wrapper of one that has none).
    /// </summary>
    Tensor? Embed(Tensor images);

    /// <summary>The embedding of the first reward in <paramref name="reward"/> that has one, or null.</summary>
    static Tensor? Of(IImageReward reward, Tensor images) => reward is IImageEmbedding e ? e.Embed(images) : null;
}
