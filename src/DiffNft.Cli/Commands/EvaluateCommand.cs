using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.DiffNft.TraitClassification;
using Microsoft.ML;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Reward;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft evaluate</c>: FID/KID, decoder-based rarity, novelty, duplicates and diversity of generated images.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var generated = new Option<string>("--generated")
        {
            Description = "Generated images: a folder written by 'diffnft generate' (its images/ folder is used) or any folder of images.",
            Required = true,
        };
        var reference = new Option<string>("--reference")
        {
            Description = "Reference: a collection folder (metadata + images, as 'diffnft collection' writes it: every metric for Nouns, and for other collections with --trait-classifier) or a plain folder of images (rarity metrics are null).",
            Required = true,
        };
        var n = new Option<int>("--n") { Description = "N: images compared from each set (larger sets are sampled with --seed). Compare FIDs only at equal N.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the N-image samples and of the KID subsets.", DefaultValueFactory = _ => 0 };
        var cache = new Option<string?>("--cache") { Description = "Folder for cached reference features (default: $DIFFNFT_CACHE_DIR, else ~/.cache/diffnft/reference-features)." };
        var noCache = new Option<bool>("--no-cache") { Description = "Always recompute the reference features." };
        var reward = new Option<string?>("--reward") { Description = "A reward model (diffnft train-reward): adds reward_mean, the mean reward of the generated images. Never used for the rarity keys." };
        var traitClassifier = new Option<string?>("--trait-classifier")
        {
            Description = "A trait classifier trained on the reference collection (diffnft train-trait-classifier): judges the generated images' traits, " +
                          "so the rarity keys are computed for collections without parts (CrypToadz-like). Without it, only Nouns references get them.",
        };
        var output = new Option<string>("--out") { Description = "Output JSON file: n, fid_resnet18, kid_resnet18, kid_std, rarity_score, rare_rate, decodable_rate, novelty, duplicate_rate, diversity (and reward_mean with --reward).", Required = true };

        var command = new Command("evaluate", "Evaluate generated images against a reference: FID-ResNet18, KID, decoder-based rarity score, rare and decodable rates, novelty, duplicates, diversity.")
        {
            generated, reference, n, seed, cache, noCache, reward, traitClassifier, output,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            int count = parse.GetValue(n);
            if (count < 2) throw new ArgumentException($"--n must be at least 2; got {count}.");
            var clock = Stopwatch.StartNew();
            string outPath = parse.GetValue(output)!;
            // Probed and locked before the images are read and the features computed.
            using var target = OutputFile.Open(outPath, "evaluate");
            using var cancel = new CliCancellation();
            string? rewardPath = parse.GetValue(reward);
            using var rewardModel = rewardPath is null ? null : RarityRewardModel.Load(rewardPath);
            string? classifierPath = parse.GetValue(traitClassifier);
            using var classifier = classifierPath is null ? null : TraitClassifier.Load(classifierPath);
            var decoder = classifier is null ? null : new TraitClassifierDecoder(classifier);
            var options = new NftGenerationEvaluatorOptions
            {
                SampleSize = count,
                Seed = parse.GetValue(seed),
                ReferenceCacheDirectory = parse.GetValue(cache),
                UseReferenceCache = !parse.GetValue(noCache),
                CancellationToken = cancel.Token,
                Reward = rewardModel,
                TraitDecoder = decoder,
            };
            var mlContext = new MLContext(seed: 0);
            mlContext.Log += (_, e) =>
            {
                // The evaluator's own progress lines; ML.NET's internal chatter stays out.
                if (e.Source.Contains(nameof(NftGenerationEvaluator), StringComparison.Ordinal) && e.Kind is Microsoft.ML.Runtime.ChannelMessageKind.Info or Microsoft.ML.Runtime.ChannelMessageKind.Warning)
                    stderr.WriteLine($"diffnft: {CliMessages.Translate(e.RawMessage)}");
            };
            var generatedImages = EvaluationData.LoadImageFolder(parse.GetValue(generated)!, cancel.Token).Tokens.Select(t => t.Image!).ToList();
            var referenceCollection = EvaluationData.LoadReference(parse.GetValue(reference)!, cancel.Token);
            if (decoder is not null)
            {
                // A classifier trained on another collection would read traits the reference's rarity table does not know.
                if (referenceCollection.TraitTypes.Count > 0) decoder.EnsureMatches(referenceCollection);
                else stderr.WriteLine("diffnft: the reference is a plain folder of images (no traits): --trait-classifier is not used and the rarity keys are null.");
            }
            var metrics = mlContext.NftGeneration.Evaluate(generatedImages, referenceCollection, options);
            AtomicFile.WriteAllText(outPath, metrics.ToJson());
            string rewardText = metrics.RewardMean is { } rm ? string.Create(CultureInfo.InvariantCulture, $" reward_mean={rm:F4}") : "";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"n={metrics.Count} fid_resnet18={metrics.FidResNet18:F3} kid_resnet18={metrics.KidResNet18:F4}±{metrics.KidStandardDeviation:F4} " +
                $"rarity_score={Show(metrics.RarityScore)} rare_rate={Show(metrics.RareRate)} decodable_rate={Show(metrics.DecodableRate)} " +
                $"novelty={Show(metrics.Novelty)} duplicate_rate={metrics.DuplicateRate:F4} diversity={metrics.Diversity:F3}{rewardText}; wrote {outPath} in {clock.Elapsed.TotalSeconds:F1} s."));
            return 0;
        }));
        return command;
    }

    private static string Show(double? value) => value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "null";
}
