// Sweep the reward weights to pick a fidelity–rarity trade-off, the AutoML-style way:
//  1. load the bundled base model and rarity reward of the built-in collection, and render the collection itself;
//  2. RewardWeightSweep: for every rarity weight w (fidelity weight 1 − w) fine-tune the base model with PPO under the
//     KL leash, generate the same prompts and seeds, and evaluate against the collection with the independent judges;
//  3. print the leaderboard and the Pareto front of FID-ResNet18 against rare rate; the folder holds trials.csv,
//     report.html and report.json. Rerunning skips finished trials.
//
//   dotnet run --project examples/RewardWeightSweep -c Release -- [iterationsPerTrial] [outputFolder]
//
// Defaults: rarity weights 0, 0.5 and 1, 2 iterations of 8 images per trial, 48 images per trial (a few minutes on 2
// cores). That shows the API; docs/sweeps.md and docs/results.md show sweeps long enough to move the rare rate.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Pipeline;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Sweeps;

int iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2;
string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "diffnft-example-sweep");

// 1. The bundled models and the collection they were trained on.
var ml = new MLContext(seed: 1);
string models = BundledModels.Require();
using var baseModel = ml.Transforms.DiffNft.LoadDiffusionGenerator(Path.Combine(models, BundledModels.BaseModelFileName));
using var rarity = ml.Transforms.DiffNft.LoadRarityReward(Path.Combine(models, BundledModels.RewardModelFileName));
var collection = BuiltInCollection.Generate();

// 2. The sweep: one trial per rarity weight; everything else is the same in every trial.
var sweep = new RewardWeightSweep(new RewardWeightSweepOptions
{
    OutputDirectory = folder,
    RarityWeights = [0, 0.5, 1],
    FineTune = new FineTuneOptions { MaxIterations = iterations, PromptsPerIteration = 1, ImagesPerPrompt = 8, Seed = 1 },
    Prompts = [BuiltInCollection.Prompt],
    GenerationCount = 48,
    EvaluationSize = 48,
    Progress = new SynchronousProgress<SweepProgress>(p => Console.WriteLine("  " + p)),
});
var result = sweep.Run(baseModel, rarity, collection);

// 3. The leaderboard (trials within the FID budget first, then by rare rate) and the Pareto front.
Console.WriteLine($"base: rare_rate {result.Base?.RareRate:F3}  fid_resnet18 {result.Base?.FidResNet18:F1}");
foreach (var trial in result.Leaderboard)
    Console.WriteLine($"#{result.RankOf(trial)} {trial.Trial.Id,-22} rare_rate {trial.Metrics.RareRate:F3}  fid_resnet18 {trial.Metrics.FidResNet18:F1}" +
                      (result.IsOnParetoFront(trial) ? "  (Pareto front)" : ""));
Console.WriteLine($"trials: {result.TrialsCsvPath}\nreport: {result.ReportHtmlPath}");
