using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// The one preprocessing function of the rarity reward. Training, the reward the RL loop calls, the <c>IDataView</c>
/// scorer, evaluation and the CLI all go through <see cref="Prepare"/>, so a model never sees an image prepared
/// differently from the ones it was trained on (the authors' code used three different preprocessings).
/// </summary>
/// <remarks>
/// <para>Input: float32 [N, 3, H, W] with values in [−1, 1], the layout of <see cref="Imaging.ImageTensors"/> and of
/// the diffusion models' samples. Images need not be square or of the model's size.</para>
/// <para>Step 1, size: when H×W differs from the model's S×S, bilinear resampling with antialiasing (an area-like
/// low-pass filter when shrinking, so thin pixel-art lines are averaged rather than skipped) and
/// <c>align_corners = false</c>; when the sizes agree, nothing — pixels reach the network untouched.</para>
/// <para>Step 2, scale: each channel is standardised with the training split's statistics,
/// (x − <see cref="RewardNormalization.PixelMean"/>) / <see cref="RewardNormalization.PixelStd"/>.</para>
/// <para>Both steps are differentiable, so gradients reach the input images for reward backpropagation.</para>
/// </remarks>
internal static class RewardPreprocessing
{
    /// <summary>Resizes and standardises a batch for the network described by <paramref name="options"/>.</summary>
    /// <param name="images">float [N, 3, H, W] in [−1, 1], on any device.</param>
    /// <param name="options">The network architecture (its <see cref="VitOptions.ImageSize"/>).</param>
    /// <param name="normalization">The model's pixel statistics.</param>
    /// <returns>float32 [N, 3, S, S] on the device of <paramref name="images"/>.</returns>
    public static Tensor Prepare(Tensor images, VitOptions options, RewardNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(normalization);
        using var scope = NewDisposeScope();
        var x = Resize(images, options.ImageSize);
        var mean = tensor(normalization.PixelMean, new long[] { 1, 3, 1, 1 }, device: x.device);
        var std = tensor(normalization.PixelStd, new long[] { 1, 3, 1, 1 }, device: x.device);
        return ((x - mean) / std).MoveToOuterDisposeScope();
    }

    /// <summary>Step 1 of <see cref="Prepare"/> alone: the batch at S×S in [−1, 1] (used to measure the pixel statistics).</summary>
    internal static Tensor Resize(Tensor images, int size)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Expected images as a tensor [N, 3, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.shape[0] == 0) throw new ArgumentException("The batch is empty.", nameof(images));
        if (images.dtype != ScalarType.Float32 && images.dtype != ScalarType.Float64)
            throw new ArgumentException($"Expected floating-point images in [−1, 1], got dtype {images.dtype}.", nameof(images));
        var x = images.dtype == ScalarType.Float32 ? images.alias() : images.to_type(ScalarType.Float32);
        if (x.shape[2] == size && x.shape[3] == size) return x;
        using var scope = NewDisposeScope();
        var resized = nn.functional.interpolate(x, new long[] { size, size }, mode: InterpolationMode.Bilinear,
            align_corners: false, antialias: true);
        return resized.MoveToOuterDisposeScope();
    }
}
