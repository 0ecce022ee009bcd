using System.Text.Json;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>How well one head reads its trait type on the held-out tokens.</summary>
/// <param name="TraitType">The trait type.</param>
/// <param name="Classes">The head's classes (values seen in training, plus "missing").</param>
/// <param name="Accuracy">Share of held-out tokens whose class (value, or missing) is predicted correctly.</param>
/// <param name="MajorityAccuracy">The accuracy of always answering the training split's most frequent class: the chance level to beat.</param>
/// <param name="PresentCount">Held-out tokens that have this trait type.</param>
/// <param name="PresentAccuracy">Share of those whose value is predicted correctly (null when none has it).</param>
/// <param name="UnseenCount">Held-out tokens whose value never occurs in the training split: no head can get them right.</param>
internal sealed record TraitHeadMetrics(string TraitType, int Classes, double Accuracy, double MajorityAccuracy, int PresentCount,
    double? PresentAccuracy, int UnseenCount);

/// <summary>
/// How well a <see cref="TraitClassifier"/> reads traits on tokens it never saw in training (the held-out split), and
/// what that does to the rarity score computed from its readings. Written to <c>metrics.json</c> beside the model and
/// stored in the model file, with snake_case keys. The rarity numbers use the OpenRarity table of the whole training
/// collection — the table the evaluator looks decoded traits up in — and each held-out token's top-class reading
/// (whatever its confidence), so they measure reading errors alone.
/// </summary>
internal sealed record TraitClassifierMetrics
{
    /// <summary>Tokens trained on.</summary>
    public int NTrain { get; init; }

    /// <summary>Held-out tokens the metrics are measured on.</summary>
    public int NHeldOut { get; init; }

    /// <summary>Per-head results, in head order.</summary>
    public IReadOnlyList<TraitHeadMetrics> Heads { get; init; } = [];

    /// <summary>The mean of the heads' <see cref="TraitHeadMetrics.Accuracy"/>.</summary>
    public double MeanAccuracy { get; init; }

    /// <summary>Share of held-out tokens whose every head is right: the whole trait set read exactly.</summary>
    public double ExactMatchRate { get; init; }

    /// <summary>The threshold <see cref="DecodableRate"/> was measured at.</summary>
    public double ConfidenceThreshold { get; init; }

    /// <summary>Share of held-out tokens that every head reads with a top probability at or above <see cref="ConfidenceThreshold"/>.</summary>
    public double DecodableRate { get; init; }

    /// <summary>Share of the decodable held-out tokens (see <see cref="DecodableRate"/>) read exactly (null when none is decodable).</summary>
    public double? DecodableExactMatchRate { get; init; }

    /// <summary>Mean OpenRarity score of the held-out tokens' true traits.</summary>
    public double MeanTrueRarity { get; init; }

    /// <summary>Mean OpenRarity score of the held-out tokens' decoded traits (compare with <see cref="MeanTrueRarity"/>: the bias a rarity score of decoded images carries).</summary>
    public double MeanDecodedRarity { get; init; }

    /// <summary>Mean absolute difference between the score of a held-out token's decoded traits and of its true traits.</summary>
    public double RarityMae { get; init; }

    /// <summary>Spearman rank correlation of the decoded-trait score with the true-trait score over the held-out tokens (null when either is constant).</summary>
    public double? RaritySpearman { get; init; }

    /// <summary>Training steps run.</summary>
    public int? Steps { get; init; }

    /// <summary>Epochs run (training images seen / training tokens).</summary>
    public double? Epochs { get; init; }

    /// <summary>Wall time of training in seconds.</summary>
    public double? TrainSeconds { get; init; }

    /// <summary>
    /// Computes the metrics from the held-out tokens' true and predicted classes (flattened [token × head]), the top
    /// probabilities, and the rarity scores of their true and decoded traits.
    /// </summary>
    internal static TraitClassifierMetrics Compute(IReadOnlyList<TraitHead> heads, int[,] classes, int[] train, int[] heldOut,
        long[] predicted, float[] probabilities, double[] trueScores, double[] decodedScores, double threshold)
    {
        int h = heads.Count, n = heldOut.Length;
        if (n == 0) throw new ArgumentException("The metrics need at least one held-out token.", nameof(heldOut));
        var perHead = new TraitHeadMetrics[h];
        for (int k = 0; k < h; k++)
        {
            // The chance level: the training split's most frequent class (the lower index on a tie).
            var counts = new int[heads[k].ClassCount];
            foreach (int i in train) counts[classes[i, k]]++;
            int majority = Array.IndexOf(counts, counts.Max());
            int right = 0, majorityRight = 0, present = 0, presentRight = 0, unseen = 0;
            for (int r = 0; r < n; r++)
            {
                int truth = classes[heldOut[r], k];
                bool ok = predicted[r * h + k] == truth;
                if (ok) right++;
                if (truth == majority) majorityRight++;
                if (truth != 0)
                {
                    present++;
                    if (ok) presentRight++;
                }
                if (truth < 0) unseen++;
            }
            perHead[k] = new TraitHeadMetrics(heads[k].TraitType, heads[k].ClassCount, (double)right / n, (double)majorityRight / n, present,
                present > 0 ? (double)presentRight / present : null, unseen);
        }
        int exact = 0, decodable = 0, decodableExact = 0;
        double absolute = 0;
        for (int r = 0; r < n; r++)
        {
            bool all = true, sure = true;
            for (int k = 0; k < h; k++)
            {
                all &= predicted[r * h + k] == classes[heldOut[r], k];
                sure &= probabilities[r * h + k] >= threshold;
            }
            if (all) exact++;
            if (sure) decodable++;
            if (sure && all) decodableExact++;
            absolute += Math.Abs(decodedScores[r] - trueScores[r]);
        }
        return new TraitClassifierMetrics
        {
            NTrain = train.Length,
            NHeldOut = n,
            Heads = perHead,
            MeanAccuracy = perHead.Average(m => m.Accuracy),
            ExactMatchRate = (double)exact / n,
            ConfidenceThreshold = threshold,
            DecodableRate = (double)decodable / n,
            DecodableExactMatchRate = decodable > 0 ? (double)decodableExact / decodable : null,
            MeanTrueRarity = trueScores.Average(),
            MeanDecodedRarity = decodedScores.Average(),
            RarityMae = absolute / n,
            RaritySpearman = Reward.RewardMetrics.SpearmanCorrelation(decodedScores, trueScores),
        };
    }

    /// <summary>The metrics as indented JSON with snake_case keys.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, TraitClassifier.JsonOptions);

    /// <summary>Reads metrics written by <see cref="ToJson"/>; <paramref name="sourceName"/> names the source in errors.</summary>
    public static TraitClassifierMetrics FromJson(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var metrics = JsonSerializer.Deserialize<TraitClassifierMetrics>(json, TraitClassifier.JsonOptions)
                          ?? throw new InvalidDataException($"{sourceName}: the metrics are null.");
            if (metrics.Heads is null || metrics.Heads.Any(h => h is null))
                throw new InvalidDataException($"{sourceName}: 'heads' must be a list of per-head metrics.");
            return metrics;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{sourceName}: the metrics are not valid JSON of trait classifier metrics ({ex.Message}).", ex);
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to a file atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
