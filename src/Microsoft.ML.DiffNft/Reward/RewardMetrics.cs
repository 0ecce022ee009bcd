using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>One bin of a reliability diagram: predictions with a probability in [<see cref="Lower"/>, <see cref="Upper"/>).</summary>
/// <param name="Lower">Lower edge of the bin.</param>
/// <param name="Upper">Upper edge (the last bin includes 1).</param>
/// <param name="Count">Number of predictions in the bin.</param>
/// <param name="MeanPredicted">Mean predicted probability in the bin (null when empty).</param>
/// <param name="ObservedRate">Share of the bin's tokens that are rare (null when empty).</param>
internal sealed record CalibrationBin(double Lower, double Upper, int Count, double? MeanPredicted, double? ObservedRate);

/// <summary>
/// How well a rarity reward model predicts held-out tokens: rank and linear correlation of the predicted reward with the
/// true rarity score, and the quality and calibration of the rare probability. Written to <c>metrics.json</c> with
/// snake_case keys (<c>spearman</c>, <c>pearson</c>, <c>auc</c>, <c>accuracy</c>, <c>precision</c>, <c>recall</c>,
/// <c>n_validation</c>, …). A metric that is undefined on the data (a correlation with a constant, an AUC without both
/// classes, a precision without predicted positives) is null rather than a made-up number.
/// </summary>
public sealed record RewardMetrics
{
    /// <summary>Spearman rank correlation of the predicted reward with the true score (ties get the mean of their ranks).</summary>
    public double? Spearman { get; init; }

    /// <summary>Pearson correlation of the predicted reward with the true score.</summary>
    public double? Pearson { get; init; }

    /// <summary>Area under the ROC curve of the rare probability for <c>IsRare</c> (Mann–Whitney U, ties counted as ½).</summary>
    public double? Auc { get; init; }

    /// <summary>Share of tokens whose rare flag is predicted correctly at probability 0.5.</summary>
    public double Accuracy { get; init; }

    /// <summary>Of the tokens predicted rare (probability ≥ 0.5), the share that are rare.</summary>
    public double? Precision { get; init; }

    /// <summary>Of the rare tokens, the share predicted rare (probability ≥ 0.5).</summary>
    public double? Recall { get; init; }

    /// <summary>Number of validation tokens the metrics were measured on.</summary>
    public int NValidation { get; init; }

    /// <summary>Number of rare tokens among them.</summary>
    public int NRare { get; init; }

    /// <summary>Root-mean-square error of the predicted reward in its own unit (standard deviations of the training score).</summary>
    public double Rmse { get; init; }

    /// <summary>Expected calibration error: Σ (bin count / n)·|mean predicted − observed rate| over <see cref="CalibrationBins"/>.</summary>
    public double ExpectedCalibrationError { get; init; }

    /// <summary>Ten equal-width bins of the rare probability.</summary>
    [JsonInclude] // internal, yet part of metrics.json
    internal IReadOnlyList<CalibrationBin> CalibrationBins { get; init; } = Array.Empty<CalibrationBin>();

    /// <summary>Training steps run (null when the metrics were not produced by the trainer).</summary>
    public int? Steps { get; init; }

    /// <summary>The step whose weights were kept (best validation loss).</summary>
    public int? BestStep { get; init; }

    /// <summary>Wall time of training in seconds, validation passes included.</summary>
    public double? TrainSeconds { get; init; }

    /// <summary>
    /// Computes the metrics. <paramref name="predictedReward"/> and <paramref name="trueScore"/> may be on different
    /// scales (correlations ignore affine maps); <see cref="Rmse"/> assumes both are on the reward's scale.
    /// </summary>
    public static RewardMetrics Compute(IReadOnlyList<double> predictedReward, IReadOnlyList<double> trueScore,
        IReadOnlyList<double> rareProbability, IReadOnlyList<bool> isRare, int bins = 10)
    {
        ArgumentNullException.ThrowIfNull(predictedReward);
        ArgumentNullException.ThrowIfNull(trueScore);
        ArgumentNullException.ThrowIfNull(rareProbability);
        ArgumentNullException.ThrowIfNull(isRare);
        int n = predictedReward.Count;
        if (trueScore.Count != n || rareProbability.Count != n || isRare.Count != n)
            throw new ArgumentException($"All inputs need one value per token: {n} rewards, {trueScore.Count} scores, {rareProbability.Count} probabilities, {isRare.Count} labels.");
        if (n == 0) throw new ArgumentException("Metrics need at least one token.", nameof(predictedReward));
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "At least one calibration bin is needed.");

        int tp = 0, fp = 0, fn = 0, tn = 0;
        double sq = 0;
        for (int i = 0; i < n; i++)
        {
            bool predicted = rareProbability[i] >= 0.5;
            if (predicted && isRare[i]) tp++;
            else if (predicted) fp++;
            else if (isRare[i]) fn++;
            else tn++;
            double d = predictedReward[i] - trueScore[i];
            sq += d * d;
        }
        var calibration = Calibration(rareProbability, isRare, bins);
        double ece = calibration.Where(b => b.Count > 0).Sum(b => (double)b.Count / n * Math.Abs(b.MeanPredicted!.Value - b.ObservedRate!.Value));
        return new RewardMetrics
        {
            Spearman = SpearmanCorrelation(predictedReward, trueScore),
            Pearson = PearsonCorrelation(predictedReward, trueScore),
            Auc = AreaUnderRoc(rareProbability, isRare),
            Accuracy = (double)(tp + tn) / n,
            Precision = tp + fp > 0 ? (double)tp / (tp + fp) : null,
            Recall = tp + fn > 0 ? (double)tp / (tp + fn) : null,
            NValidation = n,
            NRare = tp + fn,
            Rmse = Math.Sqrt(sq / n),
            ExpectedCalibrationError = ece,
            CalibrationBins = calibration,
        };
    }

    /// <summary>Pearson's r, or null when either input is constant (or there are fewer than two values).</summary>
    public static double? PearsonCorrelation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"{x.Count} values against {y.Count}.", nameof(y));
        int n = x.Count;
        if (n < 2) return null;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx <= 0 || syy <= 0) return null;
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>Spearman's ρ: Pearson's r of the ranks, tied values sharing the mean of their ranks.</summary>
    public static double? SpearmanCorrelation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return PearsonCorrelation(Ranks(x), Ranks(y));
    }

    /// <summary>
    /// The area under the ROC curve of <paramref name="scores"/> for <paramref name="labels"/>, as the Mann–Whitney
    /// statistic U / (n₊·n₋) with mid-ranks, so that a tie between a positive and a negative counts ½.
    /// Null unless both classes occur.
    /// </summary>
    public static double? AreaUnderRoc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Count != labels.Count) throw new ArgumentException($"{scores.Count} scores against {labels.Count} labels.", nameof(labels));
        var ranks = Ranks(scores);
        long pos = 0;
        double rankSum = 0;
        for (int i = 0; i < ranks.Length; i++)
            if (labels[i]) { pos++; rankSum += ranks[i]; }
        long neg = labels.Count - pos;
        if (pos == 0 || neg == 0) return null;
        return (rankSum - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }

    /// <summary>1-based ranks in ascending order; equal values get the mean of the ranks they span.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        var order = Enumerable.Range(0, n).ToArray();
        var keys = values.ToArray();
        if (keys.Any(double.IsNaN)) throw new ArgumentException("Values to rank must not be NaN.", nameof(values));
        Array.Sort(keys, order);
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && keys[end] == keys[start]) end++;
            double mid = (start + 1 + end) / 2.0; // mean of ranks start+1 … end
            for (int k = start; k < end; k++) ranks[order[k]] = mid;
            start = end;
        }
        return ranks;
    }

    private static CalibrationBin[] Calibration(IReadOnlyList<double> p, IReadOnlyList<bool> labels, int bins)
    {
        var count = new int[bins];
        var sumP = new double[bins];
        var pos = new int[bins];
        for (int i = 0; i < p.Count; i++)
        {
            int b = Math.Clamp((int)Math.Floor(p[i] * bins), 0, bins - 1);
            count[b]++;
            sumP[b] += p[i];
            if (labels[i]) pos[b]++;
        }
        return Enumerable.Range(0, bins).Select(b => new CalibrationBin((double)b / bins, (double)(b + 1) / bins, count[b],
            count[b] > 0 ? sumP[b] / count[b] : null, count[b] > 0 ? (double)pos[b] / count[b] : null)).ToArray();
    }

    /// <summary>The metrics as indented JSON with snake_case keys.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads metrics written by <see cref="ToJson"/>; <paramref name="sourceName"/> names the source in errors.</summary>
    public static RewardMetrics FromJson(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<RewardMetrics>(json, JsonOptions)
                   ?? throw new InvalidDataException($"{sourceName}: the metrics are null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{sourceName}: the metrics are not valid JSON of reward metrics ({ex.Message}).", ex);
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to a file atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
