using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Tests.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

/// <summary>The tensor path, the IDataView path and persistence of one trained Tiny reward model.</summary>
[Collection(TorchGlobalRngCollection.Name)]
public class RarityRewardModelTests
{
    private static RarityRewardModel Model => RewardTestData.Model;

    private static IReadOnlyList<RgbaImage> Images => RewardTestData.Collection.Images;

    [Fact]
    public void TheModelIsAnImageRewardAndPreprocessesWithTheOneFunction()
    {
        IImageReward reward = Model;
        Assert.Equal("rarity", reward.Name);
        Assert.True(reward.IsDifferentiable);
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(Images.Take(7).ToList());
        var scored = reward.Score(x);
        Assert.Equal(new long[] { 7 }, scored.shape);
        // The network applied to RewardPreprocessing.Prepare gives exactly the same numbers.
        using var noGrad = no_grad();
        var (_, z, _) = Model.Network.call(RewardPreprocessing.Prepare(x, Model.Options, Model.Normalization));
        Assert.True(TensorAssert.Same(z, scored), "Score differs from the network on RewardPreprocessing.Prepare");
    }

    [Fact]
    public void PreparePassesSameSizeImagesThroughAndStandardisesEachChannel()
    {
        using var scope = NewDisposeScope();
        var norm = new RewardNormalization { PixelMean = new[] { 0.5f, -0.25f, 0f }, PixelStd = new[] { 2f, 0.5f, 1f } };
        var options = VitOptions.For(VitPreset.Tiny);
        var x = rand(2, 3, 32, 32) * 2 - 1;
        var y = RewardPreprocessing.Prepare(x, options, norm);
        Assert.True(y.select(1, 0).allclose((x.select(1, 0) - 0.5) / 2, rtol: 0, atol: 1e-6));
        Assert.True(y.select(1, 1).allclose((x.select(1, 1) + 0.25) / 0.5, rtol: 0, atol: 1e-6));
        Assert.True(TensorAssert.Same(y.select(1, 2), x.select(1, 2)));
        // Other sizes are resampled to the model's input; a flat image stays flat (antialiased bilinear preserves constants).
        var flat = full(new long[] { 1, 3, 36, 36 }, 0.3f);
        var resized = RewardPreprocessing.Prepare(flat, options, new RewardNormalization());
        Assert.Equal(new long[] { 1, 3, 32, 32 }, resized.shape);
        Assert.True(resized.allclose(full(new long[] { 1, 3, 32, 32 }, 0.3f), rtol: 0, atol: 1e-6));
        Assert.Throws<ArgumentException>(() => RewardPreprocessing.Prepare(zeros(2, 4, 32, 32), options, norm));
    }

    [Fact]
    public void RewardKindsAreTheZScoreAndTheCalibratedLogitOrLogOfTheProbability()
    {
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(Images.Take(16).ToList());
        var z = Model.Forward(x, RarityRewardKind.ZScore);
        var logit = Model.Forward(x, RarityRewardKind.RareLogit);
        var logp = Model.Forward(x, RarityRewardKind.RareLogProbability);
        Assert.True(logit.Reward.sigmoid().allclose(z.RareProbability, rtol: 1e-5, atol: 1e-6));
        Assert.True(logp.Reward.exp().allclose(z.RareProbability, rtol: 1e-5, atol: 1e-6));
        Assert.True(TensorAssert.Same(z.Embedding, logit.Embedding));
        Assert.Equal(Model.Normalization.ScoreMean + Model.Normalization.ScoreStd * 1.5, Model.ToRarityScore(1.5), 12);
    }

    [Fact]
    public void ScoringIsIndependentOfTheChunkSizeUpToFloatRounding()
    {
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(Images.Take(40).ToList());
        int saved = Model.BatchSize;
        try
        {
            var whole = Model.Score(x);
            Model.BatchSize = 7;
            var chunked = Model.Score(x);
            Assert.True(whole.allclose(chunked, rtol: 1e-4, atol: 1e-5));
        }
        finally
        {
            Model.BatchSize = saved;
        }
    }

    [Fact]
    public void TheDataViewPathGivesExactlyTheTensorPathsNumbers()
    {
        var ml = new MLContext(seed: 1);
        using var scorer = new RarityRewardScorerTransformer(((Runtime.IHostEnvironment)ml).Register("test"), ModelView(), null);
        var view = RewardTestData.Collection.Scored;
        var output = scorer.Transform(view);
        var rewards = output.GetColumn<float>("RarityReward").ToArray();
        var probabilities = output.GetColumn<float>("RareProbability").ToArray();
        var embeddings = output.GetColumn<float[]>("Embedding").ToArray();
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, Model.Options.Dim), output.Schema["Embedding"].Type);
        Assert.Equal(scorer.GetOutputSchema(view.Schema)["Embedding"].Type, output.Schema["Embedding"].Type);

        using var scope = NewDisposeScope();
        var o = scorer.Model.Forward(ImageTensors.ToTensor(Images));
        Assert.Equal(o.Reward.data<float>().ToArray(), rewards);
        Assert.Equal(o.RareProbability.data<float>().ToArray(), probabilities);
        var e = o.Embedding.data<float>().ToArray();
        for (int i = 0; i < embeddings.Length; i++)
            Assert.Equal(e.AsSpan(i * scorer.Model.EmbeddingSize, scorer.Model.EmbeddingSize).ToArray(), embeddings[i]);
    }

    [Fact]
    public void SaveAndLoadGiveIdenticalScoresAndMetrics()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "reward.diffnft-reward");
        Model.Save(path);
        using var loaded = RarityRewardModel.Load(path, DiffNftDevice.Cpu);
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(Images.Take(50).ToList());
        var a = Model.Forward(x);
        var b = loaded.Forward(x);
        Assert.True(TensorAssert.Same(a.Reward, b.Reward));
        Assert.True(TensorAssert.Same(a.RareProbability, b.RareProbability));
        Assert.True(TensorAssert.Same(a.Embedding, b.Embedding));
        Assert.Equal(Model.Options, loaded.Options);
        Assert.Equal(Model.Normalization.PixelMean, loaded.Normalization.PixelMean);
        Assert.Equal(Model.Normalization.ScoreStd, loaded.Normalization.ScoreStd);
        Assert.Equal(Model.Metrics!.Spearman, loaded.Metrics!.Spearman);
        // Saving the same model twice gives the same bytes (fixed timestamps, sorted entries).
        var again = Path.Combine(dir.Path, "again.diffnft-reward");
        loaded.Save(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Fact]
    public void CorruptedOrTruncatedModelFilesGiveClearErrorsNamingTheFile()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "reward.diffnft-reward");
        Model.Save(path);
        ArchiveFuzz.EveryDamagedCopyLoadsOrNamesTheFile(path, 13, bad => RarityRewardModel.Load(bad, DiffNftDevice.Cpu));
        // A diffusion-format archive, or a reward archive from a future version, is refused by name.
        var manifestOnly = Path.Combine(dir.Path, "other.diffnft");
        ModelArchive.Write(manifestOnly, new Dictionary<string, byte[]> { ["diffnft-model.json"] = "{\"Format\":\"diffnft.diffusion\",\"Version\":1}"u8.ToArray() });
        Assert.Contains("not a DiffNft rarity reward model", Assert.Throws<InvalidDataException>(() => RarityRewardModel.Load(manifestOnly, DiffNftDevice.Cpu)).Message);
        var future = Path.Combine(dir.Path, "future.diffnft");
        ModelArchive.Write(future, new Dictionary<string, byte[]> { ["diffnft-model.json"] = "{\"Format\":\"diffnft.reward\",\"Version\":2}"u8.ToArray() });
        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => RarityRewardModel.Load(future, DiffNftDevice.Cpu)).Message);
    }

    [Fact]
    public void GradientsFlowToTheInputImagesButNotIntoTheFrozenWeights()
    {
        using var scope = NewDisposeScope();
        var x = ImageTensors.ToTensor(Images.Take(4).ToList()).requires_grad_(true);
        var reward = Model.Score(x);
        Assert.True(reward.requires_grad);
        reward.sum().backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().sum().item<float>() > 0, "no gradient reached the images");
        Assert.All(Model.Network.parameters(), p => Assert.True(p.grad is null || p.grad.count_nonzero().item<long>() == 0, "a frozen weight received a gradient"));
        // A finite-difference check along the gradient: the reward rises when the images move up the gradient.
        using var noGrad = no_grad();
        var step = x.grad! / x.grad!.norm() * 1e-2;
        float before = Model.Score(x.detach()).sum().item<float>();
        float after = Model.Score(x.detach() + step).sum().item<float>();
        Assert.True(after > before, $"reward {before} → {after} along its gradient");
        // Without a gradient request the result carries no graph.
        Assert.False(Model.Score(x.detach()).requires_grad);
    }

    // The shared model wrapped without taking ownership: disposing the scorer must not dispose it.
    private static RarityRewardModel ModelView()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.diffnft-reward");
        Model.Save(path);
        return RarityRewardModel.Load(path, DiffNftDevice.Cpu);
    }
}
