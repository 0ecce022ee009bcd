using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

/// <summary>A small rendered built-in collection with its trait rarity, and one Tiny reward model trained on it once per test run.</summary>
internal static class RewardTestData
{
    public const string Parts = "bodies=3,accessories=4,heads=5,glasses=4";

    private static readonly Lazy<Labelled> s_collection = new(() => Make(240, seed: 11));
    private static readonly Lazy<RarityRewardModel> s_model = new(() => Train(Collection, Options(steps: 300)));

    /// <summary>240 Zipf-weighted Nouns with OpenRarity scores and rare flags from <c>ComputeTraitRarity</c>.</summary>
    public static Labelled Collection => s_collection.Value;

    /// <summary>A Tiny model trained for 300 steps on <see cref="Collection"/> (shared; do not dispose).</summary>
    public static RarityRewardModel Model => s_model.Value;

    public sealed record Labelled(NftCollection Collection, IDataView Scored, IReadOnlyList<RgbaImage> Images, IReadOnlyList<double> Scores,
        IReadOnlyList<bool> IsRare, IReadOnlyList<string> TokenIds);

    public static Labelled Make(int count, int seed)
    {
        var generated = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions
        {
            Count = count, Seed = seed, Parts = NounsSubset.Parse(Parts), Weights = NounsLayerWeights.Zipf(1.0),
        });
        var ml = new MLContext(seed: 1);
        var view = generated.Collection.ToDataView();
        var scored = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(view).Transform(view);
        return new Labelled(generated.Collection, scored, generated.Tokens.Select(t => t.Image!).ToList(),
            scored.GetColumn<float>("RarityScore").Select(v => (double)v).ToList(), scored.GetColumn<bool>("IsRare").ToList(),
            scored.GetColumn<string>("TokenId").ToList());
    }

    public static RarityRewardTrainerOptions Options(int steps, IProgress<RarityRewardTrainingProgress>? progress = null) => new()
    {
        Preset = VitPreset.Tiny, BatchSize = 32, MaxSteps = steps, LearningRate = 3e-3, WarmupSteps = 20, EvaluateEvery = 50,
        Patience = 100, Seed = 5, Device = DiffNftDevice.Cpu, ReportEvery = 50, Progress = progress,
    };

    public static RarityRewardModel Train(Labelled data, RarityRewardTrainerOptions options) =>
        new RarityRewardTrainer(options).Train(data.Images, data.Scores, data.IsRare, data.TokenIds);
}
