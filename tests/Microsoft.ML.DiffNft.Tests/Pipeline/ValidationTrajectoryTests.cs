using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Pipeline;

/// <summary>The validation trajectory's Pareto set, the FID budget's choice and the CSV, on hand-made points.</summary>
public sealed class ValidationTrajectoryTests
{
    // iteration, rare rate, FID: base 0.05 @ 100; 4: 0.10 @ 105; 8: 0.20 @ 112; 12: 0.18 @ 130 (dominated by 8); 16: 0.30 @ 180.
    private static readonly List<ValidationPoint> s_points =
    [
        new(0, 0.05, 100, 0.10, 0.93), new(4, 0.10, 105, 0.11, 0.92), new(8, 0.20, 112, 0.12, 0.90),
        new(12, 0.18, 130, 0.15, 0.88), new(16, 0.30, 180, 0.40, 0.85),
    ];

    [Fact]
    public void TheParetoSetHoldsThePointsNoOtherIsAtLeastAsRareAndAsClose()
    {
        var marked = ValidationTrajectory.MarkPareto(s_points);
        Assert.Equal(new[] { 0, 4, 8, 16 }, marked.Where(p => p.Pareto).Select(p => p.Iteration));
        // A tie in both coordinates dominates neither.
        var tie = ValidationTrajectory.MarkPareto([new(0, 0.1, 100, 0, null), new(4, 0.1, 100, 0, null)]);
        Assert.All(tie, p => Assert.True(p.Pareto));
    }

    [Theory]
    [InlineData(1.00, 4)]   // nothing within 100: the lowest FID (105)
    [InlineData(1.05, 4)]   // only 105
    [InlineData(1.12, 8)]   // 105 and 112: the rarer
    [InlineData(1.30, 8)]   // 12 is within but less rare than 8
    [InlineData(2.00, 16)]  // all: the rarest
    public void TheFidBudgetChoosesTheRarestIterationWithinIt(double budget, int expected) =>
        Assert.Equal(expected, ValidationTrajectory.Choose(s_points, budget));

    [Fact]
    public void TheCsvRoundTripsAndABadCellIsNamed()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "validation.csv");
        var marked = ValidationTrajectory.MarkPareto(s_points).Select(p => p with { Chosen = p.Iteration == 8 }).ToList();
        marked[0] = marked[0] with { DecodableRate = null };
        ValidationTrajectory.Save(marked, path);
        Assert.Equal(marked, ValidationTrajectory.Load(path));
        File.WriteAllText(path, File.ReadAllText(path).Replace("112,", "1x2,"));
        var ex = Assert.Throws<InvalidDataException>(() => ValidationTrajectory.Load(path));
        Assert.Contains("line 4, column 'fid_resnet18': '1x2'", ex.Message);
    }
}
