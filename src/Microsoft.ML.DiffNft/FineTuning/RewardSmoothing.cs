using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Scores images by the expectation of the reward over random transformations that cannot change a trait (translation
/// by a few pixels with replicated edges, and mild Gaussian pixel noise), for reward backpropagation. The gradient of a
/// single reward evaluation points at whatever pixel pattern the network happens to respond to — speckle, tints — and
/// following it produces adversarial images; such patterns do not survive a shift or noise, while a rarer part does, so
/// the gradient of the expectation favours changes of content (expectation over transformation, as in robust
/// adversarial examples, used here the other way round).
/// </summary>
internal static class RewardSmoothing
{
    /// <summary>
    /// The mean total and component scores over <paramref name="samples"/> transformed copies of every image (the plain
    /// scores when <paramref name="samples"/> is 0). Differentiable wherever the reward is.
    /// </summary>
    public static (Tensor Total, IReadOnlyList<(string Name, Tensor Scores)> Components) Score(IImageReward reward, Tensor images,
        int samples, int maxShift, double noise, Generator generator)
    {
        if (samples <= 0) return RewardScores.Score(reward, images);
        long n = images.shape[0];
        var copies = new Tensor[samples];
        for (int m = 0; m < samples; m++)
        {
            var shifted = RarityRewardTrainer.Shift(images, maxShift, generator);
            copies[m] = noise > 0 ? shifted + SeededRandom.Randn(images.shape, generator, images.device) * noise : shifted;
        }
        var (total, parts) = RewardScores.Score(reward, cat(copies, 0));
        Tensor Mean(Tensor s) => s.reshape(samples, n).mean(new long[] { 0 });
        return (Mean(total), parts.Select(p => (p.Name, Mean(p.Scores))).ToList());
    }
}
