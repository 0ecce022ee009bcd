using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

/// <summary>The guards against collapse: the crowding penalty and the floor on the advantage scale.</summary>
public class CollapseGuardTests
{
    public CollapseGuardTests() => TorchRuntime.EnsureLoaded();

    // Three copies at the origin and three distinct samples 10 away from it along the axes (14.1 from each other).
    private static Tensor Batch() => tensor(new float[,]
    {
        { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 10, 0, 0 }, { 0, 10, 0 }, { 0, 0, 10 },
    });

    [Fact]
    public void CopiesAreCrowdedAndDistinctSamplesAreNot()
    {
        var crowding = new CrowdingPenalty(window: 2, bandwidthScale: 0.5);
        using var batch = Batch();
        var c = crowding.Measure(batch);
        // Nearest-neighbour distances 0, 0, 0, 10, 10, 10: the median (upper) is 10, so h = 5 and a neighbour at distance
        // d adds exp(−d²/50): a copy 1, a sample 10 away e^−2, 14.1 away e^−4.
        Assert.Equal(5.0, crowding.Bandwidth!.Value, 12);
        double copy = Math.Log(1 + 2 + 3 * Math.Exp(-2)), distinct = Math.Log(1 + 3 * Math.Exp(-2) + 2 * Math.Exp(-4));
        for (int i = 0; i < 3; i++) Assert.Equal(copy, c[i], 9);
        for (int i = 3; i < 6; i++) Assert.Equal(distinct, c[i], 9);
    }

    [Fact]
    public void TheWindowRemembersRecentIterationsOnlyAndSurvivesACheckpoint()
    {
        var crowding = new CrowdingPenalty(window: 1, bandwidthScale: 0.5);
        using var batch = Batch();
        crowding.Measure(batch);
        using var origin = zeros(1, 3);
        // One new sample at the origin: the remembered batch crowds it like the copies, itself excluded.
        double remembered = Math.Log(1 + 3 + 3 * Math.Exp(-2));
        var saved = crowding.State();
        Assert.Equal(remembered, crowding.Measure(origin)[0], 9);
        // The window holds one iteration: now only that single sample is remembered.
        Assert.Equal(Math.Log(2), crowding.Measure(origin)[0], 9);

        var restored = new CrowdingPenalty(window: 1, bandwidthScale: 0.5);
        restored.Restore(5.0, saved);
        Assert.Equal(remembered, restored.Measure(origin)[0], 9);
        Assert.Throws<InvalidDataException>(() => restored.Restore(double.NaN, saved));
        Assert.Throws<InvalidDataException>(() => restored.Restore(5.0, [.. saved, .. saved]));
    }

    [Fact]
    public void TheAdvantageScaleNeverFallsBelowTheFloor()
    {
        var prompts = new[] { "a", "a", "b", "b" };
        var rewards = new[] { 1.0, 1.2, 5.0, 9.0 };
        var adv = PerPromptStatTracker.GroupAdvantages(prompts, rewards, minStd: 1.0);
        // Prompt a's spread (0.1) is below the floor: divided by 1, not 0.1. Prompt b's (2) is above it.
        Assert.Equal(-0.1 / (1 + 1e-6), adv[0], 9);
        Assert.Equal(0.1 / (1 + 1e-6), adv[1], 9);
        Assert.Equal(-2 / (2 + 1e-6), adv[2], 9);
        var running = new PerPromptStatTracker(8, 1).Update(prompts, rewards, minStd: 1.0);
        Assert.Equal(adv, running);
    }
}
