using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

[Collection(TorchGlobalRngCollection.Name)]
public class RarityRewardTrainingTests
{
    private readonly ITestOutputHelper _output;

    public RarityRewardTrainingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void TinyTrainingOnRenderedTokensPredictsHeldOutRarity()
    {
        var model = RewardTestData.Model;
        var m = model.Metrics!;
        _output.WriteLine(m.ToJson());
        Assert.Equal(48, m.NValidation); // 20 % of 240, held out by token
        Assert.True(m.Steps is > 0 && m.BestStep is > 0 && m.TrainSeconds > 0);
        // Under the null hypothesis ρ ≈ N(0, 1/√47): 0.6 is over four standard deviations out.
        Assert.True(m.Spearman > 0.6, $"validation Spearman {m.Spearman:F3}; expected > 0.6 after training");
        Assert.True(m.Pearson > 0.5, $"validation Pearson {m.Pearson:F3}");
        Assert.Equal(3, m.NRare); // seed 5 puts 3 of the 12 rare tokens in validation
        Assert.True(m.Auc > 0.85, $"validation AUC {m.Auc:F3}");
        // The normalisation constants are the training split's, and the reward is the z-scored score.
        var (train, _) = RarityRewardTrainer.Split(RewardTestData.Collection.TokenIds, 0.2, RewardTestData.Options(1).EffectiveSeed);
        double mean = train.Average(i => RewardTestData.Collection.Scores[i]);
        Assert.Equal(mean, model.Normalization.ScoreMean, 9);
        int rare = train.Count(i => RewardTestData.Collection.IsRare[i]);
        Assert.Equal(-Math.Log((double)(train.Length - rare) / rare), model.Normalization.RareLogitOffset, 9);
    }

    [Fact]
    public void UntrainedWeightsDoNotPredictRarity()
    {
        // The same run stopped after one step is the baseline the trained model must beat.
        using var model = RewardTestData.Train(RewardTestData.Collection, RewardTestData.Options(steps: 1));
        Assert.True(Math.Abs(model.Metrics!.Spearman ?? 0) < 0.5, $"one step already gives Spearman {model.Metrics.Spearman:F3}");
    }

    [Fact]
    public void ProgressIsReportedAndCancellationStopsTraining()
    {
        var reports = new List<RarityRewardTrainingProgress>();
        using (RewardTestData.Train(RewardTestData.Collection, RewardTestData.Options(steps: 20, new SynchronousProgress<RarityRewardTrainingProgress>(reports.Add)) with { ReportEvery = 5, EvaluateEvery = 10 })) { }
        Assert.Equal(new[] { 5, 10, 15, 20 }, reports.Select(r => r.Step));
        Assert.Null(reports[0].ValidationLoss);
        Assert.NotNull(reports[1].ValidationLoss);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss)));

        using var cts = new CancellationTokenSource();
        var cancelling = RewardTestData.Options(steps: 1000, new SynchronousProgress<RarityRewardTrainingProgress>(p => { if (p.Step >= 10) cts.Cancel(); })) with { ReportEvery = 10, CancellationToken = cts.Token };
        Assert.ThrowsAny<OperationCanceledException>(() => RewardTestData.Train(RewardTestData.Collection, cancelling));
    }

    [Fact]
    public void TheSplitIsByTokenIdReproducibleAndIndependentOfRowOrder()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => (i * 7).ToString()).ToList();
        var (train, validation) = RarityRewardTrainer.Split(ids, 0.2, seed: 3);
        Assert.Equal(200, validation.Length);
        Assert.Equal(800, train.Length);
        Assert.Empty(train.Intersect(validation));
        var held = validation.Select(i => ids[i]).ToHashSet();
        var reversed = ids.AsEnumerable().Reverse().ToList();
        var (_, validation2) = RarityRewardTrainer.Split(reversed, 0.2, seed: 3);
        Assert.True(held.SetEquals(validation2.Select(i => reversed[i])));
        var (_, otherSeed) = RarityRewardTrainer.Split(ids, 0.2, seed: 4);
        Assert.False(held.SetEquals(otherSeed.Select(i => ids[i])));
        // Always at least one token on each side.
        Assert.Single(RarityRewardTrainer.Split(new[] { "a", "b" }, 0.01, 0).Validation);
        Assert.Single(RarityRewardTrainer.Split(new[] { "a", "b" }, 0.99, 0).Train);
    }

    [Fact]
    public void ShiftAugmentationMovesWholeImagesWithReplicatedEdges()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var batch = rand(12, 3, 8, 8);
        using var gen = new Generator(5);
        Assert.True(TensorAssert.Same(RarityRewardTrainer.Shift(batch, 0, gen), batch));
        var shifted = RarityRewardTrainer.Shift(batch, 1, gen);
        var padded = nn.functional.pad(batch, new long[] { 1, 1, 1, 1 }, PaddingModes.Replicate);
        for (int i = 0; i < 12; i++)
        {
            bool found = false;
            for (int dy = 0; dy <= 2 && !found; dy++)
                for (int dx = 0; dx <= 2 && !found; dx++)
                    found = TensorAssert.Same(shifted[i], padded[i].narrow(1, dy, 8).narrow(2, dx, 8));
            Assert.True(found, $"image {i} is not a one-pixel translation of itself");
        }
    }

    [Fact]
    public void BadInputsAreRejectedWithTheProblemNamed()
    {
        var data = RewardTestData.Collection;
        var trainer = new RarityRewardTrainer(RewardTestData.Options(steps: 1));
        var scores = data.Scores.ToList();
        scores[3] = double.NaN;
        Assert.Contains("token '3'", Assert.Throws<ArgumentException>(() => trainer.Train(data.Images, scores, data.IsRare, data.TokenIds)).Message);
        var ids = data.TokenIds.ToList();
        ids[1] = ids[0];
        Assert.Contains("unique", Assert.Throws<ArgumentException>(() => trainer.Train(data.Images, data.Scores, data.IsRare, ids)).Message);
        Assert.Throws<ArgumentException>(() => trainer.Train(data.Images, data.Scores.Take(10).ToList(), data.IsRare, data.TokenIds));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RarityRewardTrainer(new RarityRewardTrainerOptions { ValidationFraction = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RarityRewardTrainer(new RarityRewardTrainerOptions { Vit = VitOptions.For(VitPreset.Tiny) with { Heads = 5 } }));
    }
}
