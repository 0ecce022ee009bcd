using System.Globalization;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// The one check every trainer makes on its loss before the optimizer step: a NaN or infinite loss means the run diverged,
/// and it must stop before the NaN reaches the weights and before anything is saved (a model of NaN weights makes black
/// images and exits 0).
/// </summary>
internal static class Divergence
{
    /// <summary>
    /// Throws an <see cref="InvalidOperationException"/> naming the step, the value and the learning rate when
    /// <paramref name="loss"/> is not finite.
    /// </summary>
    /// <param name="loss">The step's loss (or any statistic that must stay finite).</param>
    /// <param name="what">What was trained, as in "Training" or "Fine-tuning".</param>
    /// <param name="step">The 1-based step or iteration.</param>
    /// <param name="learningRate">The learning rate in use, named in the message.</param>
    /// <param name="advice">What else to lower or check, as in "or check the images".</param>
    public static void ThrowIfNotFinite(double loss, string what, int step, double learningRate, string advice)
    {
        if (double.IsFinite(loss)) return;
        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"{what} diverged at step {step}: the loss is {loss}. Nothing was saved; lower LearningRate (now {learningRate:G3}) {advice}."));
    }
}
