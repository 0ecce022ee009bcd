namespace Microsoft.ML.DiffNft.Sweeps;

/// <summary>
/// The two orderings of a sweep's trials over (FID-ResNet18, rare rate): the Pareto front and the leaderboard. Both take
/// one (FID, rare rate) per trial and return trial indices.
/// </summary>
internal static class SweepRanking
{
    /// <summary>The leaderboard rule, as the report and docs/sweeps.md state it.</summary>
    public const string LeaderboardRule =
        "Leaderboard: trials within the FID budget (all trials when there is none) first; then higher rare_rate first " +
        "(trials without a rare_rate last); ties by lower fid_resnet18, then by grid order.";

    /// <summary>
    /// The indices of the non-dominated trials, ordered by FID then by descending rare rate: no other trial has a lower or
    /// equal FID and a higher or equal rare rate with at least one strictly better. Trials without a finite FID or a rare
    /// rate take no part (they are neither on the front nor dominate). Identical points are all on the front.
    /// </summary>
    public static IReadOnlyList<int> ParetoFront(IReadOnlyList<(double Fid, double? RareRate)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var valid = Enumerable.Range(0, points.Count)
            .Where(i => double.IsFinite(points[i].Fid) && points[i].RareRate is { } r && double.IsFinite(r))
            .OrderBy(i => points[i].Fid).ThenByDescending(i => points[i].RareRate!.Value).ThenBy(i => i).ToList();
        // One pass in FID order: a point is on the front when it has the best rare rate of its FID and beats every rare rate
        // of a strictly lower FID.
        var front = new List<int>();
        double bestBelow = double.NegativeInfinity;
        for (int start = 0; start < valid.Count;)
        {
            double fid = points[valid[start]].Fid;
            int end = start;
            while (end < valid.Count && points[valid[end]].Fid == fid) end++;
            double groupBest = points[valid[start]].RareRate!.Value;
            if (groupBest > bestBelow)
                for (int k = start; k < end && points[valid[k]].RareRate!.Value == groupBest; k++) front.Add(valid[k]);
            bestBelow = Math.Max(bestBelow, groupBest);
            start = end;
        }
        return front;
    }

    /// <summary>The trial indices in leaderboard order (<see cref="LeaderboardRule"/>).</summary>
    /// <param name="points">FID and rare rate per trial, in grid order.</param>
    /// <param name="fidBudget">Trials with a FID above it (or no finite FID) rank after those within it; null for none.</param>
    public static IReadOnlyList<int> Leaderboard(IReadOnlyList<(double Fid, double? RareRate)> points, double? fidBudget = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        bool Within(int i) => fidBudget is not { } b || (double.IsFinite(points[i].Fid) && points[i].Fid <= b);
        double Rare(int i) => points[i].RareRate is { } r && double.IsFinite(r) ? r : double.NegativeInfinity;
        double Fid(int i) => double.IsFinite(points[i].Fid) ? points[i].Fid : double.PositiveInfinity;
        return Enumerable.Range(0, points.Count)
            .OrderBy(i => Within(i) ? 0 : 1).ThenByDescending(Rare).ThenBy(Fid).ThenBy(i => i).ToList();
    }
}
