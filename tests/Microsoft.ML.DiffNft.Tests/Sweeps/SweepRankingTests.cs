using Microsoft.ML.DiffNft.Sweeps;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Sweeps;

public sealed class SweepRankingTests
{
    // A(10, 0.1)  B(12, 0.3)  C(11, 0.05) dominated by A  D(12, 0.3) same as B  E(9, no rare rate)  F(15, 0.3) dominated by B
    // G(20, 0.5)  H(10, 0.05) same FID as A, lower rare rate: dominated by A
    private static readonly (double, double?)[] s_points =
        [(10, 0.1), (12, 0.3), (11, 0.05), (12, 0.3), (9, null), (15, 0.3), (20, 0.5), (10, 0.05)];

    [Fact]
    public void TheParetoFrontIsTheKnownNonDominatedSetInFidOrder()
    {
        Assert.Equal([0, 1, 3, 6], SweepRanking.ParetoFront(s_points));
        Assert.Empty(SweepRanking.ParetoFront([]));
        Assert.Equal([0], SweepRanking.ParetoFront([(5, 0.2)]));
        // A lower FID with an equal rare rate dominates.
        Assert.Equal([1], SweepRanking.ParetoFront([(6, 0.2), (5, 0.2)]));
        // No rare rate anywhere: nothing to trade off, no front.
        Assert.Empty(SweepRanking.ParetoFront([(5, null), (6, null)]));
        Assert.Equal([1], SweepRanking.ParetoFront([(double.NaN, 0.9), (7, 0.1)]));
    }

    [Fact]
    public void TheParetoFrontAgreesWithTheDefinitionOnRandomPoints()
    {
        var rng = new Random(12);
        for (int round = 0; round < 200; round++)
        {
            int n = rng.Next(1, 25);
            // Coarse values, so ties in FID and in rare rate are common.
            var points = Enumerable.Range(0, n).Select(_ => ((double)rng.Next(0, 8), rng.Next(0, 10) == 0 ? (double?)null : rng.Next(0, 6) / 10.0)).ToArray();
            var expected = Enumerable.Range(0, n).Where(i => points[i].Item2 is not null && !Enumerable.Range(0, n).Any(j =>
                points[j].Item2 is { } rj && points[j].Item1 <= points[i].Item1 && rj >= points[i].Item2!.Value
                && (points[j].Item1 < points[i].Item1 || rj > points[i].Item2!.Value))).ToHashSet();
            var front = SweepRanking.ParetoFront(points);
            Assert.Equal(expected.OrderBy(i => i), front.OrderBy(i => i));
            Assert.Equal(front.OrderBy(i => points[i].Item1).ThenByDescending(i => points[i].Item2).ThenBy(i => i), front);
        }
    }

    [Fact]
    public void TheLeaderboardRanksByRareRateThenFidWithinTheBudgetFirst()
    {
        // No budget: G 0.5; B, D 0.3 at FID 12 (grid order), F 0.3 at 15; A 0.1; H 0.05 at 10, C 0.05 at 11; E without a rare rate.
        Assert.Equal([6, 1, 3, 5, 0, 7, 2, 4], SweepRanking.Leaderboard(s_points));
        // Budget 12: within are A, B, C, D, E, H; G and F (FID 20, 15) come after them.
        Assert.Equal([1, 3, 0, 7, 2, 4, 6, 5], SweepRanking.Leaderboard(s_points, fidBudget: 12));
        // A trial without a finite FID is outside any budget.
        Assert.Equal([1, 0], SweepRanking.Leaderboard([(double.NaN, 0.9), (7, 0.1)], fidBudget: 100));
    }
}
