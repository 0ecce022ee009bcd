using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

public class PpoPiecesTests
{
    public PpoPiecesTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ClippedSurrogateMatchesAHandComputation()
    {
        double eps = 1e-3;
        var deltas = new[] { 0.0, 5e-4, 2e-3, -2e-3, 2e-3, -2e-3 };
        var adv = new[] { 1.0, -2.0, 1.5, 1.5, -0.5, -0.5 };
        using var scope = NewDisposeScope();
        var oldLp = tensor(new float[] { -1f, -1f, -1f, -1f, -1f, -1f });
        var newLp = oldLp + tensor(deltas.Select(d => (float)d).ToArray());
        var a = tensor(adv.Select(x => (float)x).ToArray());
        double expected = 0;
        for (int i = 0; i < deltas.Length; i++)
        {
            double r = Math.Exp(deltas[i]);
            double clipped = Math.Clamp(r, 1 - eps, 1 + eps);
            expected += Math.Max(-adv[i] * r, -adv[i] * clipped);
        }
        expected /= deltas.Length;
        Assert.Equal(expected, PpoObjective.Loss(newLp, oldLp, a, eps).item<float>(), 5);
        Assert.Equal(4.0 / 6, PpoObjective.ClipFraction(newLp, oldLp, eps), 6);
        double approx = 0.5 * deltas.Select(d => d * d).Average();
        Assert.Equal(approx, PpoObjective.ApproxKl(newLp, oldLp), 9);
    }

    [Fact]
    public void TheGradientVanishesOnlyOnTheClippedSide()
    {
        double eps = 1e-3;
        using var scope = NewDisposeScope();
        var oldLp = zeros(4);
        // Ratios beyond the band: positive advantage above the band (clipped, no gradient), positive advantage below it
        // (not clipped: the pessimistic term is the unclipped one), and the mirror cases for negative advantages.
        var newLp = tensor(new float[] { 0.01f, -0.01f, -0.01f, 0.01f }).requires_grad_(true);
        var a = tensor(new float[] { 1f, 1f, -1f, -1f });
        PpoObjective.Loss(newLp, oldLp, a, eps).backward();
        var g = newLp.grad!.data<float>().ToArray();
        Assert.Equal(0f, g[0]);
        Assert.True(g[1] < 0);
        Assert.Equal(0f, g[2]);
        Assert.True(g[3] > 0);
    }

    [Fact]
    public void GroupAdvantagesNormalisePerPrompt()
    {
        var prompts = new[] { "a", "a", "a", "b", "b", "b" };
        var rewards = new[] { 1.0, 2.0, 3.0, 10.0, 10.0, 40.0 };
        var adv = PerPromptStatTracker.GroupAdvantages(prompts, rewards);
        double sa = Math.Sqrt(2.0 / 3);
        Assert.Equal(-1 / (sa + 1e-6), adv[0], 9);
        Assert.Equal(0, adv[1], 9);
        Assert.Equal(1 / (sa + 1e-6), adv[2], 9);
        double sb = Math.Sqrt((100.0 + 100.0 + 400.0) / 3);
        Assert.Equal(-10 / (sb + 1e-6), adv[3], 9);
        Assert.Equal(20 / (sb + 1e-6), adv[5], 9);
    }

    [Fact]
    public void RunningStatisticsUseTheBatchUntilAPromptHasEnoughThenItsOwnBuffer()
    {
        var tracker = new PerPromptStatTracker(bufferSize: 4, minCount: 3);
        // Two rewards for "a": too few, so the whole batch's statistics apply.
        var first = tracker.Update(new[] { "a", "a", "b" }, new[] { 1.0, 3.0, 5.0 });
        var (bm, bs) = (3.0, Math.Sqrt(8.0 / 3));
        Assert.Equal((1 - bm) / (bs + 1e-6), first[0], 9);
        Assert.Equal((5 - bm) / (bs + 1e-6), first[2], 9);
        // A third reward for "a": its buffer {1, 3, 7} now decides.
        var second = tracker.Update(new[] { "a" }, new[] { 7.0 });
        double ma = 11.0 / 3, sa = Math.Sqrt(((1 - ma) * (1 - ma) + (3 - ma) * (3 - ma) + (7 - ma) * (7 - ma)) / 3);
        Assert.Equal((7 - ma) / (sa + 1e-6), second[0], 9);
        // The buffer keeps the last 4: {3, 7, 9, 11} after two more.
        tracker.Update(new[] { "a", "a" }, new[] { 9.0, 11.0 });
        Assert.Equal(new[] { 3.0, 7.0, 9.0, 11.0 }, tracker.State()["a"]);
        var restored = new PerPromptStatTracker(4, 3);
        restored.Restore(tracker.State());
        Assert.Equal(tracker.Update(new[] { "a" }, new[] { 2.0 }), restored.Update(new[] { "a" }, new[] { 2.0 }));
    }

    [Fact]
    public void AdaptiveKlDoublesAboveAndHalvesBelowTheBudget()
    {
        var fixedBeta = new KlController(0.1, null);
        fixedBeta.Update(100);
        Assert.Equal(0.1, fixedBeta.Beta);
        var adaptive = new KlController(0.1, 0.01);
        adaptive.Update(0.02);
        Assert.Equal(0.2, adaptive.Beta, 12);
        adaptive.Update(0.012);
        Assert.Equal(0.2, adaptive.Beta, 12);
        adaptive.Update(0.001);
        Assert.Equal(0.1, adaptive.Beta, 12);
        adaptive.Update(double.NaN);
        Assert.Equal(0.1, adaptive.Beta, 12);
    }

    [Fact]
    public void OptionsRejectWhatCannotWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { Eta = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { ImagesPerPrompt = 1 }.Validate());
        new FineTuneOptions { ImagesPerPrompt = 1, Advantages = AdvantageNormalization.RunningPerPrompt }.Validate();
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { KlTarget = 0.1, KlWeight = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { BackpropSteps = 21 }.Validate());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { SampleGridEvery = 5 }.Validate());
        Assert.Contains("SampleGridDirectory", ex.Message);
        new FineTuneOptions().Validate();
    }
}
