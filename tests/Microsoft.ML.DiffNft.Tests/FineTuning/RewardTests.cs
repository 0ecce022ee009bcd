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
