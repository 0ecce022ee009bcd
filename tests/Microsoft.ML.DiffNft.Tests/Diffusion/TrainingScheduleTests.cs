using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class TrainingScheduleTests
{
    [Fact]
    public void CosineScheduleWarmsUpThenFollowsAHalfCosineToTheFinalFraction()
    {
        const double final = 0.05;
        // Warm-up: linear in the step, independent of progress.
        Assert.Equal(0.01, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 0, 100, 0, final), 12);
        Assert.Equal(0.5, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 49, 100, 0, final), 12);
        // After warm-up: 1 at the start, the midpoint at half the budget, the final fraction at the end.
        Assert.Equal(1.0, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 100, 100, 0, final), 12);
        Assert.Equal((1 + final) / 2, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 500, 100, 0.5, final), 12);
        Assert.Equal(final + (1 - final) * 0.5 * (1 + Math.Cos(Math.PI * 0.25)),
            LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 500, 100, 0.25, final), 12);
        Assert.Equal(final, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 5000, 100, 1.0, final), 12);
        Assert.Equal(final, LearningRateScheduleMath.Factor(LearningRateSchedule.Cosine, 5000, 100, 1.7, final), 12); // clamped
        // Constant: only the warm-up.
        Assert.Equal(0.25, LearningRateScheduleMath.Factor(LearningRateSchedule.Constant, 24, 100, 0.9, final), 12);
        Assert.Equal(1.0, LearningRateScheduleMath.Factor(LearningRateSchedule.Constant, 400, 100, 0.9, final), 12);
        Assert.Equal(1.0, LearningRateScheduleMath.Factor(LearningRateSchedule.Constant, 0, 0, 0.9, final), 12);
    }

    [Theory]
    [InlineData(PredictionType.V)]
    [InlineData(PredictionType.Epsilon)]
    public void MinSnrWeightsMatchTheClosedForm(PredictionType prediction)
    {
        var schedule = new NoiseSchedule(NoiseScheduleKind.Linear, 1000, 1e-4, 0.02);
        var options = new DiffusionTrainerOptions { MinSnrGamma = 5, Prediction = prediction };
        using var w = DiffusionTrainer.MinSnrWeights(schedule, options, torch.CPU)!;
        var got = w.data<float>().ToArray();
        Assert.Equal(1000, got.Length);
        // Independent computation of ᾱ_t from the betas, in float64.
        double ab = 1;
        for (int t = 0; t < 1000; t++)
        {
            double beta = 1e-4 + (0.02 - 1e-4) * t / 999;
            ab *= 1 - beta;
            double snr = ab / (1 - ab);
            double expected = prediction == PredictionType.V ? Math.Min(snr, 5) / (snr + 1) : Math.Min(snr, 5) / snr;
            Assert.Equal(expected, got[t], 1e-6);
        }
        // v-weights: γ/(SNR+1) < 1 where SNR > γ (early, nearly clean steps are down-weighted), SNR/(SNR+1) = ᾱ below it.
        Assert.True(got[0] < 0.01f);
        // At the noisiest step SNR < γ: the v-weight is SNR/(SNR+1) = ᾱ, the ε-weight SNR/SNR = 1.
        Assert.Equal(prediction == PredictionType.V ? schedule.AlphasCumprod[999] : 1.0, got[999], 5);
    }

    [Fact]
    public void MinSnrGammaZeroDisablesTheWeighting()
    {
        var options = new DiffusionTrainerOptions { MinSnrGamma = 0 };
        Assert.Null(DiffusionTrainer.MinSnrWeights(new NoiseSchedule(), options, torch.CPU));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiffusionTrainerOptions { MinSnrGamma = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiffusionTrainerOptions { FinalLearningRateFraction = 2 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiffusionTrainerOptions { WarmupSteps = -1 }.Validate());
    }

    [Fact]
    public void SeededDrawsDependOnlyOnTheSeed()
    {
        TorchRuntime.EnsureLoaded();
        using var g1 = SeededRandom.Create(42);
        using var g2 = SeededRandom.Create(42);
        using var g3 = SeededRandom.Create(43);
        using var a = SeededRandom.Randn(new long[] { 2, 3, 4, 4 }, g1, torch.CPU);
        using var b = SeededRandom.Randn(new long[] { 2, 3, 4, 4 }, g2, torch.CPU);
        using var c = SeededRandom.Randn(new long[] { 2, 3, 4, 4 }, g3, torch.CPU);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.False(a.eq(c).all().item<bool>());
        using var i = SeededRandom.Randint(10, new long[] { 1000 }, g1, torch.CPU);
        Assert.InRange(i.min().item<long>(), 0, 9);
        Assert.InRange(i.max().item<long>(), 0, 9);
        using var u = SeededRandom.Rand(new long[] { 1000 }, g1, torch.CPU);
        Assert.InRange(u.mean().item<float>(), 0.45f, 0.55f);
    }
}
