using Microsoft.ML.DiffNft.Reward;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reward;

/// <summary>The reward metrics against hand-computed answers and a brute-force AUC.</summary>
public class RewardMetricsTests
{
    [Fact]
    public void TiedValuesShareTheMeanOfTheirRanks()
    {
        Assert.Equal(new[] { 1, 2.5, 2.5, 4 }, RewardMetrics.Ranks(new double[] { 10, 20, 20, 30 }));
        // 3 is 4th, the three 1s share ranks 1–3 (mean 2), 7 is 5th.
        Assert.Equal(new double[] { 4, 2, 2, 2, 5 }, RewardMetrics.Ranks(new double[] { 3, 1, 1, 1, 7 }));
    }

    [Fact]
    public void SpearmanWithTiesMatchesTheHandComputedValue()
    {
        // ranks x = [1, 2.5, 2.5, 4, 5], ranks y = [1, 4, 2.5, 2.5, 5]; both have mean 3.
        // Σdx·dy = 4 − 0.5 + 0.25 − 0.5 + 4 = 7.25; Σdx² = Σdy² = 9.5; ρ = 7.25 / 9.5.
        double? rho = RewardMetrics.SpearmanCorrelation(new double[] { 1, 2, 2, 3, 5 }, new double[] { 1, 3, 2, 2, 4 });
        Assert.NotNull(rho);
        Assert.Equal(7.25 / 9.5, rho!.Value, 12);
    }

    [Fact]
    public void PearsonMatchesTheHandComputedValue()
    {
        // dx = [−1.5, −0.5, 0.5, 1.5], dy = [−3, −1, 0, 4]: Σdx·dy = 11, Σdx² = 5, Σdy² = 26; r = 11 / √130.
        double? r = RewardMetrics.PearsonCorrelation(new double[] { 1, 2, 3, 4 }, new double[] { 2, 4, 5, 9 });
        Assert.Equal(11 / Math.Sqrt(130), r!.Value, 12);
        // Invariant under increasing affine maps; sign flips under decreasing ones.
        Assert.Equal(r.Value, RewardMetrics.PearsonCorrelation(new double[] { 1, 2, 3, 4 }, new double[] { 7, 13, 16, 28 })!.Value, 12);
        Assert.Equal(-r.Value, RewardMetrics.PearsonCorrelation(new double[] { 1, 2, 3, 4 }, new double[] { -2, -4, -5, -9 })!.Value, 12);
    }

    [Fact]
    public void AucCountsATiedPositiveNegativePairAsAHalf()
    {
        // Positives {0.35, 0.8, 0.4}, negatives {0.1, 0.4}: pairs won 1+0+1+1+1+½ = 4.5 of 6.
        double? auc = RewardMetrics.AreaUnderRoc(new[] { 0.1, 0.4, 0.35, 0.8, 0.4 }, new[] { false, false, true, true, true });
        Assert.Equal(0.75, auc!.Value, 12);
    }

    [Fact]
    public void AucEqualsTheBruteForcePairCountOnRandomTiedData()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(2, 60);
            var scores = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 6)).ToArray(); // many ties
            var labels = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.3).ToArray();
            double won = 0;
            int pairs = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (labels[i] && !labels[j])
                    {
                        pairs++;
                        won += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }
            double? auc = RewardMetrics.AreaUnderRoc(scores, labels);
            if (pairs == 0) Assert.Null(auc);
            else Assert.Equal(won / pairs, auc!.Value, 12);
        }
    }

    [Fact]
    public void UndefinedMetricsAreNullNotMadeUp()
    {
        Assert.Null(RewardMetrics.PearsonCorrelation(new double[] { 1, 1, 1 }, new double[] { 1, 2, 3 }));
        Assert.Null(RewardMetrics.SpearmanCorrelation(new double[] { 4 }, new double[] { 4 }));
        Assert.Null(RewardMetrics.AreaUnderRoc(new double[] { 0.2, 0.3 }, new[] { true, true }));
        var m = RewardMetrics.Compute(new double[] { 0, 1 }, new double[] { 0, 1 }, new double[] { 0.1, 0.2 }, new[] { false, false });
        Assert.Null(m.Precision); // nothing predicted rare
        Assert.Null(m.Recall);    // nothing rare
        Assert.Equal(1.0, m.Accuracy);
    }

    [Fact]
    public void ClassificationCountsAndCalibrationBinsAreExact()
    {
        // p ≥ 0.5 predicts rare. Labels: TP at 0.9, FP at 0.55, FN at 0.05, TN at 0.02 and 0.45.
        var p = new[] { 0.9, 0.55, 0.05, 0.02, 0.45 };
        var y = new[] { true, false, true, false, false };
        var m = RewardMetrics.Compute(new double[] { 1, 2, 3, 4, 5 }, new double[] { 1, 2, 3, 4, 6 }, p, y);
        Assert.Equal(3.0 / 5, m.Accuracy, 12);
        Assert.Equal(0.5, m.Precision!.Value, 12);
        Assert.Equal(0.5, m.Recall!.Value, 12);
        Assert.Equal(5, m.NValidation);
        Assert.Equal(2, m.NRare);
        Assert.Equal(Math.Sqrt(1.0 / 5), m.Rmse, 12);
        Assert.Equal(10, m.CalibrationBins.Count);
        var first = m.CalibrationBins[0]; // 0.05 (rare) and 0.02
        Assert.Equal(2, first.Count);
        Assert.Equal(0.035, first.MeanPredicted!.Value, 12);
        Assert.Equal(0.5, first.ObservedRate!.Value, 12);
        Assert.Equal(1, m.CalibrationBins[4].Count);  // 0.45
        Assert.Equal(1, m.CalibrationBins[5].Count);  // 0.55
        Assert.Equal(1, m.CalibrationBins[9].Count);  // 0.9
        Assert.Equal(0, m.CalibrationBins[7].Count);
        Assert.Null(m.CalibrationBins[7].MeanPredicted);
        // ECE = (2/5)|0.035 − 0.5| + (1/5)|0.45 − 0| + (1/5)|0.55 − 0| + (1/5)|0.9 − 1|
        Assert.Equal(0.4 * 0.465 + 0.2 * 0.45 + 0.2 * 0.55 + 0.2 * 0.1, m.ExpectedCalibrationError, 12);
    }

    [Fact]
    public void JsonHasTheDocumentedSnakeCaseKeysAndRoundTrips()
    {
        var m = RewardMetrics.Compute(new double[] { 0, 1, 2 }, new double[] { 0, 2, 1 }, new double[] { 0.1, 0.7, 0.2 }, new[] { false, true, false }) with { Steps = 10, BestStep = 5, TrainSeconds = 1.5 };
        string json = m.ToJson();
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        foreach (var key in new[] { "spearman", "pearson", "auc", "accuracy", "precision", "recall", "n_validation", "calibration_bins" })
            Assert.True(doc.RootElement.TryGetProperty(key, out _), $"metrics.json lacks '{key}': {json}");
        var back = RewardMetrics.FromJson(json, "test");
        Assert.Equal(m.Spearman, back.Spearman);
        Assert.Equal(m.NValidation, back.NValidation);
        Assert.Equal(m.CalibrationBins, back.CalibrationBins);
        Assert.Throws<InvalidDataException>(() => RewardMetrics.FromJson("{\"spearman\": \"high\"}", "bad.json"));
    }
}
