using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// The PPO clipped surrogate as a loss, with its diagnostics. ratio = exp(log π_new − log π_old) on element-averaged
/// step log-probabilities; loss = mean(max(−A·ratio, −A·clip(ratio, 1−ε, 1+ε))). Outside the clip band the gradient is
/// zero only on the side that would move the ratio further in the advantage's direction — the min/max form, not DPOK's
/// hard clamp of the ratio, which zeroes it both ways.
/// </summary>
internal static class PpoObjective
{
    /// <summary>The clipped surrogate loss (a scalar) for per-transition log-probabilities and advantages.</summary>
    public static Tensor Loss(Tensor logProbNew, Tensor logProbOld, Tensor advantages, double clipRange)
    {
        using var scope = NewDisposeScope();
        var ratio = (logProbNew - logProbOld).exp();
        var unclipped = -advantages * ratio;
        var clipped = -advantages * ratio.clamp(1 - clipRange, 1 + clipRange);
        return maximum(unclipped, clipped).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Share of transitions whose ratio lies outside [1−ε, 1+ε].</summary>
    public static double ClipFraction(Tensor logProbNew, Tensor logProbOld, double clipRange)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return (logProbNew - logProbOld).exp().sub(1).abs().gt(clipRange).to_type(float32).mean().item<float>();
    }

    /// <summary>½·mean((log π_new − log π_old)²), DDPO's estimate of the KL to the rollout policy.</summary>
    public static double ApproxKl(Tensor logProbNew, Tensor logProbOld)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return (logProbNew - logProbOld).square().mean().item<float>() * 0.5;
    }
}
