using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// The one preprocessing of the trait classifier, shared by training and classification: images to float [N, 3, S, S]
/// in [−1, 1] (<see cref="ImageTensors"/>; other sizes resampled like the reward's, bilinear with antialiasing), then
/// each channel standardised with the training split's statistics.
/// </summary>
internal static class TraitClassifierPreprocessing
{
    /// <summary>The images at S×S in [−1, 1], in input order; images of several sizes are converted a size at a time.</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbaImage> images, int size, Device device)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("At least one image is needed.", nameof(images));
        for (int i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentException($"Image {i} is null.", nameof(images));
        using var scope = NewDisposeScope();
        var groups = Enumerable.Range(0, images.Count).GroupBy(i => (images[i].Width, images[i].Height)).ToList();
        if (groups.Count == 1)
            return RewardPreprocessing.Resize(ImageTensors.ToTensor(images, device), size).MoveToOuterDisposeScope();
        var result = empty(new long[] { images.Count, 3, size, size }, device: device);
        foreach (var group in groups)
        {
            var index = group.ToArray();
            var part = RewardPreprocessing.Resize(ImageTensors.ToTensor(index.Select(i => images[i]).ToList(), device), size);
            result.index_copy_(0, tensor(index.Select(i => (long)i).ToArray(), device: device), part);
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>(x − mean) / std per channel.</summary>
    public static Tensor Normalise(Tensor raw, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        using var scope = NewDisposeScope();
        var m = tensor(mean.ToArray(), new long[] { 1, 3, 1, 1 }, device: raw.device);
        var s = tensor(std.ToArray(), new long[] { 1, 3, 1, 1 }, device: raw.device);
        return ((raw - m) / s).MoveToOuterDisposeScope();
    }
}
