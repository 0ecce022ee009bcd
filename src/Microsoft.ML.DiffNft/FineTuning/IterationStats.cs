namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>What one fine-tuning iteration measured (before it becomes a <see cref="FineTuneProgress"/>).</summary>
internal sealed record IterationStats(
    double RewardMean, double RewardStd, IReadOnlyDictionary<string, double> Components, double Kl, double ClipFraction,
    double ApproxKl, double Loss, double GradientNorm, int RewardQueries);

/// <summary>Weighted running means of the per-transition diagnostics of an iteration.</summary>
internal sealed class StatsAccumulator
{
    private double _klWeight, _kl, _ppoWeight, _clip, _approx, _lossWeight, _loss;
    private double _gradSum;
    private int _gradCount;

    /// <summary>Adds the mean KL of <paramref name="weight"/> transitions.</summary>
    public void AddKl(double weight, double kl)
    {
        _klWeight += weight;
        _kl += weight * kl;
    }

    /// <summary>Adds the PPO diagnostics of <paramref name="weight"/> transitions.</summary>
    public void AddPpo(double weight, double clipFraction, double approxKl)
    {
        _ppoWeight += weight;
        _clip += weight * clipFraction;
        _approx += weight * approxKl;
    }

    /// <summary>Adds a loss value that stood for <paramref name="weight"/> transitions or images.</summary>
    public void AddLoss(double weight, double loss)
    {
        _lossWeight += weight;
        _loss += weight * loss;
    }

    public void AddGradientNorm(double norm)
    {
        _gradSum += norm;
        _gradCount++;
    }

    public double Kl => _klWeight > 0 ? _kl / _klWeight : 0;
    public double ClipFraction => _ppoWeight > 0 ? _clip / _ppoWeight : 0;
    public double ApproxKl => _ppoWeight > 0 ? _approx / _ppoWeight : 0;
    public double Loss => _lossWeight > 0 ? _loss / _lossWeight : 0;
    public double GradientNorm => _gradCount > 0 ? _gradSum / _gradCount : 0;
}
