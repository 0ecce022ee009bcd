using System.Diagnostics;
using System.Text;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Evaluates generated NFT images against a reference with independent judges (never the optimised reward): FID and
/// KID over ImageNet ResNet-18 features at a fixed N, the OpenRarity score of traits recovered by a trait decoder and
/// looked up in the reference collection's frequency table, the rare and decodable rates, novelty, duplicates and
/// feature diversity. Reached as <c>mlContext.NftGeneration.Evaluate(…)</c>.
/// </summary>
internal sealed class NftGenerationEvaluator
{
    private readonly IHost _host;
    private readonly NftGenerationEvaluatorOptions _options;

    internal NftGenerationEvaluator(IHostEnvironment env, NftGenerationEvaluatorOptions? options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(NftGenerationEvaluator));
        _options = options ?? new NftGenerationEvaluatorOptions();
        _options.Validate();
    }

    /// <summary>Evaluates <paramref name="generated"/> against <paramref name="reference"/>.</summary>
    /// <param name="generated">The generated images (at least N).</param>
    /// <param name="reference">
    /// The reference: a collection with traits and images (every metric), or images without traits, as
    /// <see cref="EvaluationData.LoadImageFolder"/> makes (distribution metrics only; rarity metrics are null).
    /// </param>
    /// <exception cref="ArgumentException">A set has fewer than N images, a reference token lacks an image, or a reference
    /// with traits has images of more than one size.</exception>
    public NftGenerationMetrics Evaluate(IReadOnlyList<RgbaImage> generated, NftCollection reference)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(reference);
        var ct = _options.CancellationToken;
        int n = _options.SampleSize;
        for (int i = 0; i < generated.Count; i++)
            if (generated[i] is null) throw _host.Process(new ArgumentException($"Generated image {i} is null.", nameof(generated)));
        if (generated.Count < n)
            throw new ArgumentException($"The evaluation compares N = {n} images, but only {generated.Count} generated images were given; generate at least {n} or lower NftGenerationEvaluatorOptions.SampleSize.", nameof(generated));
        if (reference.Count < n)
            throw new ArgumentException($"The evaluation compares N = {n} images, but the reference '{reference.Name}' has only {reference.Count}; lower NftGenerationEvaluatorOptions.SampleSize to at most {reference.Count}.", nameof(reference));
        string task = "the evaluation's reference";
        // A reference with traits whose images differ in size is a broken collection (a stray file, a resized token): the
        // Nouns decoder would silently not recognise it and report null rarity for the wrong reason, so it is refused.
        string? problem = CollectionRequirements.MissingImageProblem(reference, task)
            ?? (reference.TraitTypes.Count > 0 ? CollectionRequirements.ImageSizeProblem(reference, task) : null);
        if (problem is not null) throw new ArgumentException(problem, nameof(reference));

        using var ch = _host.Start("Evaluate");
        var clock = Stopwatch.StartNew();
        var genIndex = Sample(generated.Count, n, _options.EffectiveSeed);
        var refIndex = Sample(reference.Count, n, _options.EffectiveSeed + 1);
        var gen = genIndex.Select(i => generated[i]).ToList();
        var refTokens = refIndex.Select(i => reference.Tokens[i]).ToList();
        var refImages = refTokens.Select(t => t.Image!).ToList();
        var refNames = refTokens.Select(t => t.TokenId).ToList();
        TorchRuntime.EnsureLoaded();

        var resnet = _options.ResNet18Extractor ?? new ResNet18FeatureExtractor(_options.ResNet18Options);
        float[][] genFeatures, refFeatures;
        try
        {
            var t0 = clock.Elapsed;
            genFeatures = resnet.Extract(gen, ct);
            var t1 = clock.Elapsed;
            refFeatures = ReferenceFeatures(resnet, refNames, refImages, ch);
            ch.Info(MessageSensitivity.None, $"ResNet-18 features: {n} generated in {(t1 - t0).TotalSeconds:F1} s, {n} reference in {(clock.Elapsed - t1).TotalSeconds:F1} s.");
        }
        finally
        {
            if (_options.ResNet18Extractor is null) resnet.Dispose();
        }

        ct.ThrowIfCancellationRequested();
        var step = clock.Elapsed;
        double fid = FrechetDistance.Compute(genFeatures, refFeatures);
        var kid = KernelInceptionDistance.Compute(genFeatures, refFeatures, _options.KidSubsets, _options.KidSubsetSize, _options.EffectiveSeed);
        double diversity = MeanPairwiseDistance(genFeatures);
        ch.Info(MessageSensitivity.None, $"FID, KID ({kid.Subsets} subsets of {kid.SubsetSize}) and diversity in {(clock.Elapsed - step).TotalSeconds:F1} s.");

        step = clock.Elapsed;
        var rarity = Rarity(gen, reference, ch);
        ct.ThrowIfCancellationRequested();
        int duplicates = DuplicateDetector.CountDuplicates(gen, rarity?.Keys ?? new string?[n], _options.DuplicatePixelTolerance, ct);
        ch.Info(MessageSensitivity.None, $"Rarity, novelty and duplicates in {(clock.Elapsed - step).TotalSeconds:F1} s.");

        double? rewardMean = null;
        if (_options.Reward is { } reward) rewardMean = RewardMean(reward, gen);

        var additional = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var extractor in _options.AdditionalFeatureExtractors)
        {
            var g = extractor.Extract(gen, ct);
            var r = ReferenceFeatures(extractor, refNames, refImages, ch);
            var k = KernelInceptionDistance.Compute(g, r, _options.KidSubsets, _options.KidSubsetSize, _options.EffectiveSeed);
            additional[$"fid_{extractor.Name}"] = FrechetDistance.Compute(g, r);
            additional[$"kid_{extractor.Name}"] = k.Mean;
            additional[$"kid_std_{extractor.Name}"] = k.StandardDeviation;
        }

        ch.Info(MessageSensitivity.None, $"Evaluated {n} generated images against '{reference.Name}' in {clock.Elapsed.TotalSeconds:F1} s.");
        return new NftGenerationMetrics
        {
            Count = n,
            FidResNet18 = fid,
            KidResNet18 = kid.Mean,
            KidStandardDeviation = kid.StandardDeviation,
            RarityScore = rarity?.MeanScore,
            RareRate = rarity?.RareRate,
            DecodableRate = rarity?.DecodableRate,
            Novelty = rarity?.Novelty,
            DuplicateRate = (double)duplicates / n,
            Diversity = diversity,
            RewardMean = rewardMean,
            RewardName = _options.Reward?.Name,
            AdditionalMetrics = additional,
            TraitDecoder = rarity?.Decoder,
            RareThreshold = rarity?.Threshold,
            RarityScores = rarity?.Scores,
            ReferenceRarityScores = rarity?.ReferenceScores,
        };
    }

    private float[][] ReferenceFeatures(IImageFeatureExtractor extractor, List<string> names, List<RgbaImage> images, IChannel ch)
    {
        var ct = _options.CancellationToken;
        if (!_options.UseReferenceCache || extractor.CacheIdentity is not { } identity)
            return Check(extractor, extractor.Extract(images, ct), images.Count);
        var cache = new ReferenceFeatureCache(_options.ReferenceCacheDirectory ?? ReferenceFeatureCache.DefaultDirectory);
        string key = ReferenceFeatureCache.Key(identity, names, images);
        var cached = cache.TryRead(extractor.Name, key, images.Count, extractor.Dimension, out string? problem);
        if (problem is not null) ch.Warning(MessageSensitivity.None, problem);
        if (cached is not null)
        {
            ch.Info(MessageSensitivity.None, $"Reference {extractor.Name} features from the cache: {cache.PathFor(extractor.Name, key)}.");
            return cached;
        }
        var features = Check(extractor, extractor.Extract(images, ct), images.Count);
        try
        {
            ch.Info(MessageSensitivity.None, $"Cached reference {extractor.Name} features in {cache.Write(extractor.Name, key, identity, features)}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only or full cache folder must not fail the evaluation: the features were computed.
            ch.Warning(MessageSensitivity.None, $"Could not write the reference feature cache in '{cache.Directory}': {ex.Message}");
        }
        return features;
    }

    private static float[][] Check(IImageFeatureExtractor extractor, float[][] features, int count)
    {
        if (features is null || features.Length != count || features.Any(f => f is null || f.Length != extractor.Dimension))
            throw new InvalidOperationException($"Feature extractor '{extractor.Name}' returned {features?.Length ?? 0} vectors for {count} images, or vectors whose length is not its Dimension ({extractor.Dimension}).");
        return features;
    }

    private sealed record RarityResult(string Decoder, double? MeanScore, double RareRate, double DecodableRate, double? Novelty, double Threshold, string?[] Keys,
        double[] Scores, double[] ReferenceScores);

    private RarityResult? Rarity(List<RgbaImage> generated, NftCollection reference, IChannel ch)
    {
        var decoder = _options.TraitDecoder ?? (NounsImageTraitDecoder.Handles(reference) ? NounsImageTraitDecoder.For(reference) : null);
        // A classifier trained on another collection would decode into the wrong trait types: refuse it, naming both.
        if (decoder is TraitClassification.TraitClassifierDecoder classifier && reference.TraitTypes.Count > 0)
            classifier.EnsureMatches(reference);
        // Rarity leaves numeric traits out: a reference with nothing else has no rarity table to look decoded traits up in.
        if (reference.TraitTypes.Count > 0 && reference.GetTraitColumns().All(c => c.IsNumeric))
        {
            ch.Info(MessageSensitivity.None, "The reference has only numeric traits, which rarity leaves out: rarity metrics are null.");
            return null;
        }
        if (decoder is null || reference.TraitTypes.Count == 0)
        {
            ch.Info(MessageSensitivity.None, reference.TraitTypes.Count == 0
                ? "The reference has no traits: rarity metrics are null."
                : "No trait decoder handles this reference collection" + NounsImageTraitDecoder.WhyNot(reference) +
                  ": rarity metrics are null (set NftGenerationEvaluatorOptions.TraitDecoder, for example to TraitClassifier.AsTraitDecoder()).");
            return null;
        }

        // The reference collection's frequency table: every reference token, not only the N compared images.
        var view = reference.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
        var table = new TraitRarityEstimator(_host, new TraitRarityOptions { RareQuantile = _options.RareQuantile, UseDoublePrecision = true })
            .Fit(view).Table;
        var types = table.Traits;
        string[] Values(IEnumerable<NftAttribute> attributes)
        {
            var values = new string[types.Count];
            foreach (var a in attributes)
            {
                string name = a.TraitType.Trim().ToLowerInvariant();
                for (int j = 0; j < types.Count; j++)
                    if (types[j].Name == name) values[j] = a.Value.Trim().ToLowerInvariant();
            }
            return values;
        }
        // A trait combination as text; positions in the mask (traits the image cannot show) are wildcards.
        static string Key(string[] values, bool[]? mask)
        {
            var sb = new StringBuilder();
            for (int j = 0; j < values.Length; j++) sb.Append(mask is not null && mask[j] ? "\u0002*" : values[j] ?? "").Append('\u001f');
            return sb.ToString();
        }
        var referenceValues = reference.Tokens.Select(t => Values(t.Attributes)).ToList();
        // The reference's combinations, projected once per wildcard mask that occurs (usually a handful).
        var referenceKeys = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string> ReferenceKeys(bool[]? mask)
        {
            string id = mask is null ? "" : string.Concat(mask.Select(b => b ? '1' : '0'));
            if (!referenceKeys.TryGetValue(id, out var set))
                referenceKeys[id] = set = new HashSet<string>(referenceValues.Select(v => Key(v, mask)), StringComparer.Ordinal);
            return set;
        }

        var decoded = decoder.Decode(generated, _options.CancellationToken);
        if (decoded.Count != generated.Count)
            throw new InvalidOperationException($"Trait decoder '{decoder.Name}' returned {decoded.Count} results for {generated.Count} images.");
        var keys = new string?[generated.Count];
        var scores = new List<double>(generated.Count);
        int decodable = 0, rare = 0, novel = 0;
        double sum = 0;
        for (int i = 0; i < decoded.Count; i++)
        {
            if (decoded[i] is not { IsDecodable: true } d) continue;
            decodable++;
            var traits = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var a in d.Attributes)
                if (types.Any(t => t.Name == a.TraitType.Trim().ToLowerInvariant())) traits[a.TraitType] = a.Value;
            bool[]? mask = null;
            var hidden = d.UnobservableTraitTypes.Select(t => t.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            if (hidden.Count > 0)
            {
                mask = types.Select(t => hidden.Contains(t.Name)).ToArray();
                if (!mask.Any(b => b)) mask = null;
            }
            // A layer the image does not show is scored by its least rare reading, never by the decoder's guess.
            var score = mask is null ? table.Score(traits) : HiddenTraitRarity.Score(table, traits, hidden);
            sum += score.Score;
            scores.Add(score.Score);
            if (score.IsRare) rare++;
            keys[i] = Key(Values(d.Attributes), mask);
            if (!ReferenceKeys(mask).Contains(keys[i]!)) novel++;
        }
        int n = generated.Count;
        ch.Info(MessageSensitivity.None, $"Trait decoder {decoder.Name}: {decodable}/{n} decodable, {rare} rare (threshold {table.RareThreshold:F4}), {novel} novel.");
        // Every reference token's score against the same table: the reference side of rarity histograms.
        var referenceScores = reference.Tokens.Select(t => table.Score(t.Attributes
            .Where(a => types.Any(x => x.Name == a.TraitType.Trim().ToLowerInvariant()))
            .GroupBy(a => a.TraitType, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (string?)g.First().Value, StringComparer.Ordinal)).Score).ToArray();
        return new RarityResult(decoder.Name, decodable > 0 ? sum / decodable : null, (double)rare / n, (double)decodable / n,
            decodable > 0 ? (double)novel / decodable : null, table.RareThreshold, keys, scores.ToArray(), referenceScores);
    }

    private double RewardMean(Reward.IImageReward reward, List<RgbaImage> images)
    {
        double sum = 0;
        int batch = _options.RewardBatchSize;
        // Images of one size per call: a batch tensor needs one shape.
        foreach (var group in images.GroupBy(i => (i.Width, i.Height)))
        {
            var list = group.ToList();
            for (int start = 0; start < list.Count; start += batch)
            {
                _options.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var slice = list.GetRange(start, Math.Min(batch, list.Count - start));
                using var _ = no_grad();
                var scores = reward.Score(ImageTensors.ToTensor(slice));
                if (scores.numel() != slice.Count)
                    throw new InvalidOperationException($"Reward '{reward.Name}' returned {scores.numel()} scores for {slice.Count} images.");
                sum += scores.to(ScalarType.Float64).sum().cpu().item<double>();
            }
        }
        return sum / images.Count;
    }

    /// <summary>Mean Euclidean distance over all pairs of distinct rows, in float64, a block of rows at a time.</summary>
    internal static double MeanPairwiseDistance(float[][] features)
    {
        int n = features.Length;
        if (n < 2) return 0;
        using var scope = NewDisposeScope();
        var x = FeatureMatrix.ToTensor(features, nameof(features));
        double total = 0;
        const int Block = 512;
        for (int start = 0; start < n; start += Block)
        {
            using var inner = NewDisposeScope();
            int rows = Math.Min(Block, n - start);
            var d = cdist(x.narrow(0, start, rows), x);
            total += d.sum().item<double>(); // the diagonal is 0; every unordered pair is counted twice
        }
        return total / ((double)n * (n - 1));
    }

    /// <summary>The indices of N items out of <paramref name="count"/>: all of them in order when count = N, else a seeded sample, sorted.</summary>
    internal static int[] Sample(int count, int n, int seed)
    {
        var all = Enumerable.Range(0, count).ToArray();
        if (count == n) return all;
        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, count);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var chosen = all.AsSpan(0, n).ToArray();
        Array.Sort(chosen);
        return chosen;
    }
}
