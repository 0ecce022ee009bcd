using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>One DDIM transition x_t → x_{t−1}: the mean, σ, the sample and (for η &gt; 0) its log-probability.</summary>
/// <param name="Sample">x_{t−1}.</param>
/// <param name="Mean">μ_θ(x_t, t), the mean of the Gaussian policy step.</param>
/// <param name="Sigma">σ_t (0 when η = 0).</param>
/// <param name="LogProb">Per-image log π(x_{t−1} | x_t), averaged over elements; null when σ = 0.</param>
/// <param name="PredictedX0">The clipped prediction of x₀.</param>
internal sealed record DdimStepResult(Tensor Sample, Tensor Mean, double Sigma, Tensor? LogProb, Tensor PredictedX0);

/// <summary>
/// The DDIM update with per-step log-probabilities (DDPO's <c>ddim_step_with_logprob</c>), the Gaussian log-density and
/// the exact per-step KL between two policies that share σ. These are the formulas of docs/algorithms.md §1, in one place, shared
/// by sampling, rollouts and PPO re-scoring so that a stored transition re-scored with unchanged weights has ratio 1.
/// </summary>
internal static class DdimStep
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>σ_t = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_prev), with the previous timestep clamped at 0.</summary>
    public static double Sigma(NoiseSchedule schedule, int t, int prevT, double eta)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (eta < 0) throw new ArgumentOutOfRangeException(nameof(eta), eta, "η must be non-negative.");
        double a = schedule.AlphaBar(t), ap = schedule.AlphaBar(prevT);
        double v = (1 - ap) / (1 - a) * (1 - a / ap);
        return eta * Math.Sqrt(Math.Max(v, 0));
    }

    /// <summary>Converts a network output into (ε̂, x̂₀) at ᾱ_t; x̂₀ is clipped to [−1, 1] when asked.</summary>
    public static (Tensor Epsilon, Tensor X0) Interpret(Tensor modelOutput, Tensor xt, double alphaBar, PredictionType type, bool clipX0 = true)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(xt);
        double sa = Math.Sqrt(alphaBar), sb = Math.Sqrt(1 - alphaBar);
        Tensor eps, x0;
        if (type == PredictionType.V)
        {
            x0 = xt * sa - modelOutput * sb;
            eps = xt * sb + modelOutput * sa;
        }
        else
        {
            eps = modelOutput.alias();
            x0 = (xt - modelOutput * sb) / sa;
        }
        if (clipX0)
        {
            // Re-derive ε from the clipped x̂₀ so that mean and x̂₀ stay consistent (matters for v-prediction early on).
            var clipped = x0.clamp(-1, 1);
            eps = (xt - clipped * sa) / sb;
            x0 = clipped;
        }
        return (eps, x0);
    }

    /// <summary>
    /// One DDIM step. When <paramref name="prevSample"/> is given (re-scoring a stored transition) it is used as x_{t−1}
    /// instead of drawing noise, and only its log-probability under the current network is computed.
    /// </summary>
    /// <param name="schedule">The noise schedule.</param>
    /// <param name="modelOutput">The network output at (x_t, t).</param>
    /// <param name="xt">x_t, shape [B, C, H, W].</param>
    /// <param name="t">Current timestep.</param>
    /// <param name="prevT">Next (smaller) timestep; negative values are clamped to 0.</param>
    /// <param name="eta">η: 0 is deterministic DDIM, 1 is the DDPM-like stochastic policy used for RL.</param>
    /// <param name="type">What the network predicts.</param>
    /// <param name="noise">Standard-normal noise for the step (drawn from torch's global generator when null).</param>
    /// <param name="prevSample">A stored x_{t−1} to score instead of sampling.</param>
    /// <param name="clipX0">Clip x̂₀ to [−1, 1].</param>
    public static DdimStepResult Step(NoiseSchedule schedule, Tensor modelOutput, Tensor xt, int t, int prevT, double eta,
        PredictionType type, Tensor? noise = null, Tensor? prevSample = null, bool clipX0 = true)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        double a = schedule.AlphaBar(t), ap = schedule.AlphaBar(prevT);
        double sigma = Sigma(schedule, t, prevT, eta);
        var (eps, x0) = Interpret(modelOutput, xt, a, type, clipX0);
        double dirCoef = Math.Sqrt(Math.Max(1 - ap - sigma * sigma, 0));
        var mean = x0 * Math.Sqrt(ap) + eps * dirCoef;
        Tensor sample;
        if (prevSample is not null)
            sample = prevSample.alias();
        else if (sigma > 0)
            sample = mean + (noise ?? randn(mean.shape, dtype: mean.dtype, device: mean.device)) * sigma;
        else
            sample = mean.alias();
        Tensor? logProb = sigma > 0 ? GaussianLogProb(sample, mean, sigma) : null;
        return new DdimStepResult(sample, mean, sigma, logProb, x0);
    }

    /// <summary>
    /// log N(x; μ, σ²I) per image, averaged over all non-batch elements (not summed: that keeps PPO's clip range of
    /// about 1e-4 meaningful whatever the image size).
    /// </summary>
    public static Tensor GaussianLogProb(Tensor x, Tensor mean, double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be positive for a log-density.");
        var d = x - mean;
        var lp = d.square() * (-1.0 / (2 * sigma * sigma)) - (Math.Log(sigma) + HalfLog2Pi);
        return lp.mean(Dims(lp));
    }

    /// <summary>
    /// KL(N(μ_a, σ²I) ‖ N(μ_b, σ²I)) = ‖μ_a − μ_b‖² / (2σ²), averaged over non-batch elements like the log-probability.
    /// </summary>
    public static Tensor GaussianKl(Tensor meanA, Tensor meanB, double sigma)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "σ must be positive for a KL.");
        var kl = (meanA - meanB).square() * (1.0 / (2 * sigma * sigma));
        return kl.mean(Dims(kl));
    }

    private static long[] Dims(Tensor t)
    {
        var dims = new long[t.dim() - 1];
        for (int i = 0; i < dims.Length; i++) dims[i] = i + 1;
        return dims;
    }
}
