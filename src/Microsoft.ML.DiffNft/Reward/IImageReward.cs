using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// A batched reward on images: the one interface through which the RL fine-tuner, the evaluation and the CLI call any
/// reward (the rarity ViT, a fidelity reward, a weighted sum of rewards). Implementations score whole batches as tensors,
/// never one image at a time, so a rollout of many images costs one forward pass.
/// </summary>
public interface IImageReward
{
    /// <summary>A short name for logs and metric keys (for example <c>rarity</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Whether <see cref="Score"/> is differentiable with respect to the images, so reward backpropagation
    /// (DRaFT / AlignProp style) may call it on images that require gradients.
    /// </summary>
    bool IsDifferentiable { get; }

    /// <summary>
    /// Scores a batch of images. <paramref name="images"/> is float32 [N, 3, H, W] with values in [−1, 1] (the layout of
    /// <see cref="Imaging.ImageTensors"/>), on any device; the result is float32 [N] on the same device. When the images
    /// require gradients and <see cref="IsDifferentiable"/> is true, the result carries the graph back to them; otherwise
    /// implementations may run without gradients.
    /// </summary>
    Tensor Score(Tensor images);
}
