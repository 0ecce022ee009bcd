using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>Writes a sweep's <c>trials.csv</c>: one row per finished trial in grid order, with its rank and Pareto flag.</summary>
internal static class TrialsCsv
{
    public const string Header =
        "id,rarity_weight,fidelity_weight,kl_weight,repeat,rank,pareto,n,fid_resnet18,kid_resnet18,kid_std,rarity_score,rare_rate," +
        "decodable_rate,novelty,duplicate_rate,diversity,iterations,fine_tune_seconds";

    /// <summary>Rewrites the file atomically, so a crash leaves the previous complete table.</summary>
    public static void Write(string path, IReadOnlyList<SweepTrialResult> trials, IReadOnlyList<int> leaderboard, IReadOnlyList<int> front)
    {
        var rank = new int[trials.Count];
        for (int i = 0; i < leaderboard.Count; i++) rank[leaderboard[i]] = i + 1;
        var onFront = new HashSet<int>(front);
        var sb = new StringBuilder(Header).Append('\n');
        for (int i = 0; i < trials.Count; i++)
        {
            var t = trials[i];
            var m = t.Metrics;
            sb.AppendJoin(',',
                t.Trial.Id, N(t.Trial.RarityWeight), N(t.Trial.FidelityWeight), N(t.Trial.KlWeight),
                t.Trial.Repeat.ToString(CultureInfo.InvariantCulture), rank[i].ToString(CultureInfo.InvariantCulture), onFront.Contains(i) ? "true" : "false",
                m.Count.ToString(CultureInfo.InvariantCulture), N(m.FidResNet18), N(m.KidResNet18), N(m.KidStandardDeviation),
                N(m.RarityScore), N(m.RareRate), N(m.DecodableRate), N(m.Novelty), N(m.DuplicateRate), N(m.Diversity),
                t.Iterations.ToString(CultureInfo.InvariantCulture), t.FineTuneSeconds.ToString("F1", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string N(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "";
}
