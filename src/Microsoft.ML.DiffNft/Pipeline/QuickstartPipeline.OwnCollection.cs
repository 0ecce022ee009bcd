using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.DiffNft.TraitClassification;

namespace Microsoft.ML.DiffNft.Pipeline;

public sealed partial class QuickstartPipeline
{
    /// <summary>
    /// The fewest tokens a collection of one's own needs: the judge holds a fifth of them out, and a base model trained on
    /// fewer mostly memorises its images.
    /// </summary>
    public const int MinimumOwnCollectionTokens = 32;

    /// <summary>The opening words of captions made from a collection's traits when it has no captions of its own.</summary>
    public const string OwnCollectionSubject = "an nft";

    private const string OwnTask = "quickstart --collection";

    /// <summary>Whether the judge stage trained a trait classifier (a collection the exact Nouns decoder cannot read).</summary>
    private bool _classifierJudge;

    /// <summary>
    /// Loads a collection of one's own, checks it before any training, brings its images to the working size
    /// (<see cref="CollectionGeometry"/>) and writes it, with a caption per token, where the other stages read it.
    /// </summary>
    private void OwnCollectionStage(string source)
    {
        string full = Path.GetFullPath(source);
        var (divisor, maxSide) = ModelGeometry(Options.BaseTraining);
        string fingerprint = StageFingerprint.Of(QuickstartStage.Collection,
            $"own:{full};divisor={divisor};max_side={maxSide};subject={OwnCollectionSubject}\n{SourceListing(full, Paths.Root)}");
        RunStage(QuickstartStage.Collection, fingerprint,
            new[] { Path.Combine(Paths.Collection, "_metadata.json"), Path.Combine(Paths.Collection, NftCaptions.CaptionsFileName) },
            Array.Empty<string>(), context =>
            {
                var ct = Options.CancellationToken;
                context.Report(0, $"loading {full}");
                var collection = NftCollectionLoader.Load(full);
                CheckOwnCollection(collection);
                var first = collection.Tokens[0].Image!;
                var geometry = CollectionGeometry.Choose(first.Width, first.Height, divisor, maxSide);
                context.Report(0.3, $"{collection.Count:N0} tokens; images {geometry.Describe()}");
                var tokens = new NftToken[collection.Count];
                ParallelLoop.For(tokens.Length, i =>
                {
                    var t = collection.Tokens[i];
                    tokens[i] = new NftToken(t.TokenId, t.Attributes)
                    {
                        Name = t.Name,
                        Description = t.Description,
                        Extra = t.Extra,
                        Image = geometry.ToWorking(t.Image!),
                        Caption = t.Caption ?? NftCaptions.FromTraits(t, OwnCollectionSubject),
                    };
                }, ct);
                context.Report(0.6, "writing the working-size collection");
                NftCollectionWriter.Write(new NftCollection(tokens, collection.Name), Paths.Collection,
                    new NftCollectionWriteOptions { ReplaceExisting = true }, cancellationToken: ct);
                bool transparent = collection.Tokens.Any(t => !CollectionGeometry.IsOpaque(t.Image!));
                return new StageOutcome(
                    $"{N(collection.Count)} tokens over {collection.TraitTypes.Count} trait types from {full}; images {geometry.Describe()}" +
                    (transparent ? "; transparency composited onto white" : ""),
                    new()
                    {
                        ["tokens"] = collection.Count,
                        ["trait_types"] = collection.TraitTypes.Count,
                        ["source_width"] = geometry.SourceWidth,
                        ["source_height"] = geometry.SourceHeight,
                        ["width"] = geometry.Width,
                        ["height"] = geometry.Height,
                        ["side"] = geometry.Side,
                        ["transparent"] = transparent ? 1 : 0,
                    });
            });
    }

    /// <summary>
    /// What a collection needs before hours of training, each failure one message naming the collection and what was
    /// expected: enough tokens (and at least N), text traits, no trait type with one value on every token, an image for
    /// every token, and one image size.
    /// </summary>
    private void CheckOwnCollection(NftCollection collection)
    {
        int minimum = Math.Max(MinimumOwnCollectionTokens, Options.SampleCount);
        CollectionRequirements.RequireTokens(collection, minimum, OwnTask, minimum == Options.SampleCount && minimum > MinimumOwnCollectionTokens
            ? $"the evaluation compares N = {Options.SampleCount} generated images with as many of the collection's; lower N (--n)"
            : "the judge holds a fifth out, and the models need examples of each trait value");
        CollectionRequirements.RequireTraits(collection, OwnTask, varying: true);
        foreach (var column in collection.GetTraitColumns().Where(c => !c.IsNumeric))
        {
            var values = collection.Tokens.Select(t => t.Find(column.TraitType)?.Value).Distinct(StringComparer.Ordinal).Take(2).ToList();
            if (values.Count == 1)
                throw new InvalidDataException(
                    $"Collection {collection.Describe()}: trait type '{column.TraitType}' is {(values[0] is { } v ? $"'{v}'" : "absent")} on all {collection.Count:N0} tokens, " +
                    $"so it tells no token from another and has no rarity; {OwnTask} needs every trait type to take at least two values (remove '{column.TraitType}' from the metadata).");
        }
        CollectionRequirements.RequireImages(collection, OwnTask);
        CollectionRequirements.RequireOneImageSize(collection, OwnTask);
    }

    /// <summary>
    /// A cheap fingerprint of a collection's files: the relative path, size and modification time of every file under
    /// the folder — for a file, of the files beside it and under the <c>images/</c> folder beside it — so that edits
    /// rerun the run. Files of the run's own output folder are left out, should it lie inside the collection's.
    /// </summary>
    private static string SourceListing(string full, string outputRoot)
    {
        IEnumerable<FileInfo> files;
        string root;
        if (Directory.Exists(full))
        {
            root = full;
            files = new DirectoryInfo(full).EnumerateFiles("*", SearchOption.AllDirectories);
        }
        else if (File.Exists(full))
        {
            root = Path.GetDirectoryName(full)!;
            string images = Path.Combine(root, "images");
            files = new DirectoryInfo(root).EnumerateFiles()
                .Concat(Directory.Exists(images) ? new DirectoryInfo(images).EnumerateFiles("*", SearchOption.AllDirectories) : []);
        }
        else
            throw new FileNotFoundException($"The collection '{full}' does not exist: expected a folder or file that the collection loader reads (metadata with images, a CSV or JSON of traits with an image folder or atlas).", full);
        var text = new StringBuilder();
        string own = Path.TrimEndingDirectorySeparator(outputRoot) + Path.DirectorySeparatorChar;
        foreach (var file in files.Where(f => !f.FullName.StartsWith(own, StringComparison.Ordinal)).OrderBy(f => f.FullName, StringComparer.Ordinal))
            text.Append(Path.GetRelativePath(root, file.FullName)).Append('\t').Append(file.Length.ToString(CultureInfo.InvariantCulture))
                .Append('\t').Append(file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The prompts in effect: the options' own, else the collection's subject — the most common opening phrase (up to the
    /// first comma) of the captions the collection stage wrote.
    /// </summary>
    private void ResolvePrompts()
    {
        if (Options.FineTunePrompts is not null && Options.GenerationPrompt is not null) return;
        var collection = NftCollectionLoader.Load(Paths.Collection, new NftCollectionLoadOptions { LoadImages = false });
        string subject = collection.Tokens.Select(t => t.Caption?.Split(',')[0].Trim())
            .Where(s => !string.IsNullOrEmpty(s)).GroupBy(s => s!, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).FirstOrDefault()
            ?? throw new InvalidDataException($"The collection '{Paths.Collection}' has no captions to take the prompt from; set QuickstartOptions.GenerationPrompt and FineTunePrompts (--prompt).");
        Options = Options with { FineTunePrompts = Options.FineTunePrompts ?? new[] { subject }, GenerationPrompt = Options.GenerationPrompt ?? subject };
    }

    /// <summary>
    /// The judge of generated images: the exact Nouns part decoder when the collection is one it reads (nothing to train);
    /// otherwise a trait classifier trained on the collection with a fifth of its tokens held out, whose held-out
    /// decodable rate is the yardstick for the models' (<c>models/judge.diffnft-traits</c>).
    /// </summary>
    private void JudgeStage()
    {
        bool own = Options.CollectionPath is not null;
        var reference = own ? NftCollectionLoader.Load(Paths.Collection, new NftCollectionLoadOptions { LoadCaptions = false }) : null;
        _classifierJudge = reference is not null && !NounsImageTraitDecoder.Handles(reference);
        if (!_classifierJudge)
        {
            RunStage(QuickstartStage.Judge, StageFingerprint.Of(QuickstartStage.Judge, "nouns-parts", Fingerprint(QuickstartStage.Collection)),
                Array.Empty<string>(), Array.Empty<string>(),
                _ => new StageOutcome("the exact Nouns part decoder reads the collection's images: nothing to train", new() { ["trained"] = 0 }));
            return;
        }
        var training = Options.JudgeTraining;
        string fingerprint = StageFingerprint.Of(QuickstartStage.Judge, "trait-classifier:" + StageFingerprint.Describe(training), Fingerprint(QuickstartStage.Collection));
        RunStage(QuickstartStage.Judge, fingerprint, new[] { Paths.JudgeModel, Paths.JudgeMetrics }, Array.Empty<string>(), context =>
        {
            var options = training with
            {
                CancellationToken = Options.CancellationToken,
                Progress = new SynchronousProgress<TraitClassifierTrainingProgress>(p =>
                    context.Report(Fraction(p.Step, p.TotalSteps, context.Spent, training.MaxTime), string.Create(CultureInfo.InvariantCulture,
                        $"step {p.Step:N0}  epoch {p.Epoch:F1}  loss {p.Loss:F3}  accuracy {p.Accuracy:F3}"))),
            };
            using var model = new TraitClassifierTrainer(options).Train(reference!);
            var m = model.Metrics ?? throw new InvalidDataException("The trained trait classifier carries no held-out metrics.");
            Directory.CreateDirectory(Path.GetDirectoryName(Paths.JudgeModel)!);
            model.Save(Paths.JudgeModel);
            m.Save(Paths.JudgeMetrics);
            var numbers = new Dictionary<string, double>
            {
                ["trained"] = 1,
                ["held_out_tokens"] = m.NHeldOut,
                ["held_out_decodable_rate"] = m.DecodableRate,
                ["held_out_mean_accuracy"] = m.MeanAccuracy,
                ["held_out_exact_match"] = m.ExactMatchRate,
            };
            if (m.RaritySpearman is { } s) numbers["held_out_rarity_spearman"] = s;
            return new StageOutcome(string.Create(CultureInfo.InvariantCulture,
                $"trait classifier, {model.Heads.Count} heads; on {m.NHeldOut:N0} held-out tokens: decodable {m.DecodableRate:P1}, mean accuracy {m.MeanAccuracy:F3}, exact match {m.ExactMatchRate:F3}"),
                numbers);
        });
    }

    /// <summary>The evaluator's trait decoder: the judge's classifier, or null for the evaluator's own choice (the exact Nouns decoder).</summary>
    private TraitClassifier? LoadJudge() => _classifierJudge ? TraitClassifier.Load(Paths.JudgeModel) : null;

    /// <summary>
    /// The images of <paramref name="model"/> for the prompts and seeds, at the collection's working size: the model's
    /// squares cropped back (a no-op unless training padded them). Every generated set and validation goes through here.
    /// </summary>
    private RgbaImage[] GenerateAtWorkingSize(Diffusion.DiffusionModel model, IReadOnlyList<string> prompts, IReadOnlyList<long> seeds, IProgress<int>? progress = null)
    {
        var geometry = WorkingGeometry();
        var images = model.Generate(prompts, seeds, Options.Generation, progress, Options.CancellationToken);
        return geometry.Side == model.ImageSize ? images.Select(geometry.FromTraining).ToArray() : images;
    }

    /// <summary>The evaluator's settings for N images against the collection, shared by the final sets and validation.</summary>
    private NftGenerationEvaluatorOptions EvaluatorOptions(int sampleSize, int kidSubsets, ResNet18FeatureExtractor resnet, TraitClassifier? judge) => new()
    {
        SampleSize = sampleSize,
        Seed = Options.EvaluationSeed,
        KidSubsets = kidSubsets,
        ResNet18Extractor = resnet,
        TraitDecoder = judge?.AsTraitDecoder(),
        ReferenceCacheDirectory = Options.ReferenceCacheDirectory,
        CancellationToken = Options.CancellationToken,
    };

    /// <summary>How the collection's working-size images map to the base model's squares and back.</summary>
    private CollectionGeometry WorkingGeometry()
    {
        string images = Path.Combine(Paths.Collection, "images");
        string first = Directory.Exists(images) ? Directory.EnumerateFiles(images, "*.png").FirstOrDefault() ?? "" : "";
        if (first.Length == 0) throw new InvalidDataException($"The collection '{Paths.Collection}' has no images; delete the folder and run again.");
        var image = PngCodec.Load(first);
        var (divisor, maxSide) = ModelGeometry(Options.BaseTraining);
        return CollectionGeometry.Choose(image.Width, image.Height, divisor, maxSide);
    }

    /// <summary>
    /// What the base model's image side must be a multiple of, and the longest working side it takes: the UNet's divisor
    /// and 64 px for a pixel model; times the VAE's downscale factor, and 128 px, for a latent one.
    /// </summary>
    private static (int Divisor, int MaxSide) ModelGeometry(DiffusionTrainerOptions training) =>
        training.Latent is { } latent
            ? (training.ResolveUNet().SizeDivisor * latent.DownscaleFactor, CollectionGeometry.MaxLatentSide)
            : (training.ResolveUNet().SizeDivisor, CollectionGeometry.MaxSide);
}
