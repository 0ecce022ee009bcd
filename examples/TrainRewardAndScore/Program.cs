// Train a rarity reward model (a Vision Transformer that predicts trait rarity from pixels) through its ML.NET
// estimator, then score images that the model has never seen with the transformer it returns — and check the
// predictions against the images' true OpenRarity scores, which the reward model never gets to see.
//
//   dotnet run --project examples/TrainRewardAndScore -c Release -- [steps] [outputFolder]
//
// Defaults: 300 steps of the Small ViT on 2,000 tokens of the built-in collection — about a minute on 2 free cores.
// With DIFFNFT_THREADS=1 on a busy machine it is several times faster than with more threads than free cores.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Reward;

int steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300;
string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "diffnft-example-reward");
Directory.CreateDirectory(folder);
var ml = new MLContext(seed: 1);

// 1. Training data: the built-in collection's parts and weights, 2,000 tokens, as an IDataView with an Image column.
var options = BuiltInCollection.CreateOptions();
options.Count = 2000;
IDataView collection = NounsCollectionGenerator.Generate(options).ToDataView(new NftCollectionDataViewOptions { IncludeCaptions = false });

// 2. Labels from trait rarity: RarityScore and IsRare, plus each trait's probability for the trainer's auxiliary head.
var rarity = ml.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions { ProbabilitiesColumnName = "TraitProbabilities" }).Fit(collection);

// 3. The reward model, trained by Fit; 20 % of the tokens are held out by token id for early stopping and metrics.
var trainer = ml.Transforms.DiffNft.TrainRarityReward(new RarityRewardTrainerOptions
{
    Preset = VitPreset.Small,
    MaxSteps = steps,
    Progress = new SynchronousProgress<RarityRewardTrainingProgress>(p =>
    {
        if (p.ValidationSpearman is { } s) Console.WriteLine($"  step {p.Step,5}  loss {p.Loss:F4}  validation Spearman {s:F3}");
    }),
});
using var reward = trainer.Fit(rarity.Transform(collection));
var m = reward.Metrics!;
Console.WriteLine($"Validation ({m.NValidation} tokens, {m.NRare} rare): Spearman {m.Spearman:F3}, AUC {m.Auc:F3}, RMSE {m.Rmse:F3} (z units)");
string modelPath = Path.Combine(folder, "rarity.diffnft-reward");
reward.Save(modelPath);

// 4. Score new images: 12 Nouns drawn with another seed, independently of the training set.
var freshOptions = BuiltInCollection.CreateOptions();
freshOptions.Count = 12;
freshOptions.Seed = 2024;
var fresh = NounsCollectionGenerator.Generate(freshOptions);
IDataView freshView = fresh.ToDataView(new NftCollectionDataViewOptions { IncludeCaptions = false });

// The model loaded back from its file is a transformer like the one Fit returned.
using var loaded = ml.Transforms.DiffNft.LoadRarityReward(modelPath);
IDataView scored = loaded.Transform(freshView);
var predicted = scored.GetColumn<float>("RarityReward").ToArray();        // predicted z-score of the rarity score
var rareProbability = scored.GetColumn<float>("RareProbability").ToArray();
// The truth: the same tokens' OpenRarity scores against the training collection's frequency table.
var truth = rarity.Transform(freshView).GetColumn<float>("RarityScore").ToArray();

Console.WriteLine("token  true score  predicted score  P(rare)  caption");
for (int i = 0; i < fresh.Count; i++)
    Console.WriteLine($"{fresh.Tokens[i].TokenId,5}  {truth[i],10:F3}  {loaded.ToRarityScore(predicted[i]),15:F3}  {rareProbability[i],7:F3}  {fresh.Tokens[i].Caption}");
double spearman = RewardMetrics.SpearmanCorrelation(predicted.Select(v => (double)v).ToList(), truth.Select(v => (double)v).ToList()) ?? double.NaN;
Console.WriteLine($"Spearman correlation of predicted and true rarity on these {fresh.Count} new images: {spearman:F3}; model saved to {modelPath}");
