using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.FineTuning;

[Collection(TorchGlobalRngCollection.Name)]
public class RewardTests(ITestOutputHelper output)
{
    private sealed class Constant(string name, float value) : IImageReward
    {
        public string Name => name;
        public bool IsDifferentiable => false;
        public Tensor Score(Tensor images) => full(new[] { images.shape[0] }, value);
    }

    [Fact]
    public void WeightedSumSkipsZeroWeightsAndAddsTheRest()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var images = zeros(3, 3, 8, 8);
        var red = new ChannelMeanReward();
        images.select(1, 0).fill_(0.5);
        var w = new WeightedReward((red, 2.0), (new Constant("c", 3f), -1.0), (new MustNotBeCalledReward(), 0.0));
        var (total, parts) = w.ScoreComponents(images);
        Assert.Equal(new[] { -2f, -2f, -2f }, total.data<float>().ToArray());
        Assert.Equal(new[] { "red", "c" }, parts.Select(p => p.Name));
        Assert.False(w.IsDifferentiable);
        Assert.True(new WeightedReward((red, 1.0), (new Constant("c", 1f), 0.0)).IsDifferentiable);

        var allZero = new WeightedReward((new MustNotBeCalledReward("x"), 0.0), (new MustNotBeCalledReward("y"), 0.0));
        Assert.Equal(new[] { 0f, 0f, 0f }, allZero.Score(images).data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => new WeightedReward((red, 1.0), (new ChannelMeanReward(1), 1.0)));
        Assert.Throws<ArgumentException>(() => new WeightedReward((red, double.NaN)));
    }

    private sealed class Scaled(IImageReward inner, double factor) : IImageReward
    {
        public string Name => inner.Name;
        public bool IsDifferentiable => inner.IsDifferentiable;
        public Tensor Score(Tensor images) => inner.Score(images) * factor;
    }

    [Fact]
    public void StandardizedSignalWeighsComponentsOnACommonScaleWhateverTheirUnits()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var red = new[] { 0.1, 0.4, -0.3, 0.9 };
        var green = new[] { 0.2, -0.5, 0.0, 0.1 };
        var images = zeros(4, 3, 8, 8);
        for (int i = 0; i < 4; i++)
        {
            images[i, 0].fill_(red[i]);
            images[i, 1].fill_(green[i]);
        }

        // Independent computation: z-scores with the unbiased standard deviation (torch's default).
        static double[] Z(double[] v)
        {
            double m = v.Average(), sd = Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
            return v.Select(x => (x - m) / (sd + RewardScores.StdEpsilon)).ToArray();
        }
        var expected = Z(red).Zip(Z(green), (r, g) => 0.25 * r + 0.75 * g).ToArray();

        double[] Signal(double redScale, RewardComponentScaling scaling, Tensor input)
        {
            var w = new WeightedReward((new Scaled(new ChannelMeanReward(0, "red"), redScale), 0.25), (new ChannelMeanReward(1, "green"), 0.75));
            var (total, parts) = w.ScoreComponents(input);
            return RewardScores.TrainingSignal(w, total, parts, scaling).data<float>().ToArray().Select(x => (double)x).ToArray();
        }
        var unit = Signal(1, RewardComponentScaling.Standardized, images);
        var hundred = Signal(100, RewardComponentScaling.Standardized, images);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], unit[i], 4);
            Assert.Equal(expected[i], hundred[i], 4); // a component's units do not change its say
        }
        // Raw: the scaled component dominates, as before.
        var raw = Signal(100, RewardComponentScaling.Raw, images);
        for (int i = 0; i < 4; i++) Assert.Equal(0.25 * 100 * red[i] + 0.75 * green[i], raw[i], 3);

        // The statistics are constants in the gradient: ∂signal_i/∂pixel of image i's red channel = w/σ · 1/64.
        var x = images.clone().requires_grad_(true);
        var wr = new WeightedReward((new ChannelMeanReward(0, "red"), 0.25), (new ChannelMeanReward(1, "green"), 0.75));
        var (t, ps) = wr.ScoreComponents(x);
        RewardScores.TrainingSignal(wr, t, ps, RewardComponentScaling.Standardized).sum().backward();
        double m0 = red.Average(), sdRed = Math.Sqrt(red.Sum(v => (v - m0) * (v - m0)) / 3);
        Assert.Equal(0.25 / (sdRed + RewardScores.StdEpsilon) / 64, x.grad!.data<float>()[0], 5);

        // PPO standardises the weighted signal again within each prompt group, so only the weights' ratio reaches the
        // advantages: (1, 3) trains like (0.25, 0.75), while (0.5, 0.5) is another direction.
        double[] Advantages(double wRed, double wGreen)
        {
            var w = new WeightedReward((new ChannelMeanReward(0, "red"), wRed), (new ChannelMeanReward(1, "green"), wGreen));
            var (total, parts) = w.ScoreComponents(images);
            var signal = RewardScores.TrainingSignal(w, total, parts, RewardComponentScaling.Standardized).data<float>().ToArray().Select(v => (double)v).ToArray();
            return PerPromptStatTracker.GroupAdvantages(["p", "p", "p", "p"], signal);
        }
        var quarter = Advantages(0.25, 0.75);
        var scaledUp = Advantages(1, 3);
        var even = Advantages(0.5, 0.5);
        for (int i = 0; i < 4; i++) Assert.Equal(quarter[i], scaledUp[i], 4); // float32 signal, ε = 1e-6 in both standardisations
        Assert.True(quarter.Zip(even, (a, b) => Math.Abs(a - b)).Max() > 0.1);

        // One component, or one image, leaves the total as it is.
        var single = new WeightedReward((new Scaled(new ChannelMeanReward(0, "red"), 100), 1.0), (new MustNotBeCalledReward(), 0.0));
        var (st, sp) = single.ScoreComponents(images);
        Assert.Same(st, RewardScores.TrainingSignal(single, st, sp, RewardComponentScaling.Standardized));
        var (ot, op) = wr.ScoreComponents(images.narrow(0, 0, 1));
        Assert.Same(ot, RewardScores.TrainingSignal(wr, ot, op, RewardComponentScaling.Standardized));
    }

    /// <summary>Reads one pixel: the kind of feature a pixel-level reward hack exploits.</summary>
    private sealed class PixelReward : IImageReward
    {
        public string Name => "pixel";
        public bool IsDifferentiable => true;
        public Tensor Score(Tensor images) => images[.., 0, 4, 4];
    }

    [Fact]
    public void SmoothedRewardAveragesOverShiftedNoisedCopiesSoSinglePixelFeaturesFade()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var images = zeros(2, 3, 9, 9);
        images[0, 0, 4, 4] = tensor(1f); // one bright pixel
        images[1, 0].fill_(1f);          // a whole bright channel: no shift changes it
        var reward = new PixelReward();

        var (plain, _) = RewardSmoothing.Score(reward, images, 0, 2, 0.1, SeededRandom.Create(1));
        Assert.Equal(new[] { 1f, 1f }, plain.data<float>().ToArray());

        // 2,000 copies shifted by up to 2 px: the pixel stays in place only for the offset (0, 0), 1 in 25 of them.
        using var gen = SeededRandom.Create(7);
        var x = images.clone().requires_grad_(true);
        var (smoothed, parts) = RewardSmoothing.Score(reward, x, 2000, 2, 0.0, gen);
        var s = smoothed.data<float>().ToArray();
        Assert.InRange(s[0], 1.0 / 25 - 0.015, 1.0 / 25 + 0.015);
        Assert.Equal(1f, s[1], 5);
        Assert.Equal("pixel", Assert.Single(parts).Name);
        smoothed.sum().backward(); // differentiable: the gradient spreads over the 5×5 neighbourhood
        var g = x.grad![0, 0];
        Assert.Equal(1.0, g.sum().item<float>(), 4);
        Assert.Equal(0.0, g[0, 0].item<float>(), 6);
        Assert.True(g[4, 4].item<float>() > 0 && g[2, 6].item<float>() > 0);

        // Noise averages out; the same seed gives the same scores.
        var (a, _) = RewardSmoothing.Score(reward, images, 500, 0, 0.1, SeededRandom.Create(3));
        var (b, _) = RewardSmoothing.Score(reward, images, 500, 0, 0.1, SeededRandom.Create(3));
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.InRange(a.data<float>()[0], 1 - 0.02, 1 + 0.02);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { BackpropRewardSamples = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuneOptions { BackpropRewardNoise = double.NaN }.Validate());
    }

    [Fact]
    public void LogitOfAProbabilityRewardIsTheLogOdds()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var logit = new LogitReward(new Constant("p", 0.8f));
        Assert.Equal(Math.Log(0.8 / 0.2), logit.Score(zeros(2, 3, 4, 4)).data<float>()[0], 5);
        var saturated = new LogitReward(new Constant("p", 1f), 1e-4);
        Assert.Equal(Math.Log(0.9999 / 0.0001), saturated.Score(zeros(1, 3, 4, 4)).data<float>()[0], 3);
    }

    [Fact]
    public void FidelityPrefersCollectionImagesToNoiseAndIsDifferentiableAndDeterministic()
    {
        var model = FineTuneTestModels.Base;
        var reward = new DenoisingFidelityReward(model);
        var (blocks, _) = DiffusionTrainingTests.Blocks(8, seed: 99);
        using var scope = NewDisposeScope();
        var real = ImageTensors.ToTensor(blocks);
        using var gen = new Generator(4);
        var noise = rand(new long[] { 8, 3, 32, 32 }, generator: gen) * 2 - 1;
        var rReal = reward.Score(real).data<float>().ToArray();
        var rNoise = reward.Score(noise).data<float>().ToArray();
        output.WriteLine($"fidelity: blocks mean {rReal.Average():F4} (min {rReal.Min():F4}), noise mean {rNoise.Average():F4} (max {rNoise.Max():F4})");
        Assert.True(rReal.Min() > rNoise.Max(), "every collection image must score above every noise image");
        Assert.Equal(rReal, reward.Score(real).data<float>().ToArray());

        // Gradients reach the images (the shared model's weights are frozen meanwhile, as during fine-tuning).
        var parameters = model.Network.parameters().ToList();
        foreach (var p in parameters) p.requires_grad_(false);
        try
        {
            var x = real.clone().requires_grad_(true);
            reward.Score(x).sum().backward();
            Assert.True(x.grad is not null && x.grad.abs().sum().item<float>() > 0);
        }
        finally
        {
            foreach (var p in parameters) p.requires_grad_(true);
        }
    }

    [Fact]
    public void LoaderBuildsBuiltinsAndNamesUnsupportedFormats()
    {
        var model = FineTuneTestModels.Base;
        Assert.IsType<DenoisingFidelityReward>(RewardLoader.Load("builtin:fidelity", new RewardLoadOptions { BaseModel = model }));
        var noModel = Assert.Throws<ArgumentException>(() => RewardLoader.Load("builtin:fidelity"));
        Assert.Contains("BaseModel", noModel.Message);
        var unknown = Assert.Throws<ArgumentException>(() => RewardLoader.Load("builtin:sparkle"));
        Assert.Contains("builtin:fidelity", unknown.Message);
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "model.diffnft");
        model.Save(path);
        var unsupported = Assert.Throws<NotSupportedException>(() => RewardLoader.Load(path));
        Assert.Contains("'diffnft.diffusion'", unsupported.Message);
        Assert.Contains(path, unsupported.Message);
        Assert.Throws<FileNotFoundException>(() => RewardLoader.Load(Path.Combine(dir.Path, "absent.reward")));
    }
}
