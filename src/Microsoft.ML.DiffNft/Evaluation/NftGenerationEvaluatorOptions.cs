using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>Options of <see cref="NftGenerationEvaluator"/>; every default is the documented evaluation protocol.</summary>
public sealed class NftGenerationEvaluatorOptions
{
    /// <summary>
    /// N: how many generated and how many reference images are compared. FID is biased at small N, so compare numbers only
    /// at equal N. Both sets need at least N images; a larger set is sampled down to N with <see cref="Seed"/>. Default 1,000.
    /// </summary>
    public int SampleSize { get; set; } = 1000;

    /// <summary>
    /// Seed of the sampling of N images from a larger set and of the KID subsets. Null (default): 0, the documented
    /// protocol's seed, also through <c>mlContext.NftGeneration</c>: metrics are compared across runs and contexts, so
    /// the context's seed does not change them.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>The seed used: <see cref="Seed"/>, or 0 when unset.</summary>
    internal int EffectiveSeed => Seed ?? ContextSeed.EngineDefault;

    /// <summary>KID: the number of random subsets. Default 100.</summary>
    public int KidSubsets { get; set; } = KernelInceptionDistance.DefaultSubsets;

    /// <summary>KID: the subset size; null for <see cref="KernelInceptionDistance.DefaultSubsetSize"/> (N/2, at most 1,000).</summary>
    public int? KidSubsetSize { get; set; }

    /// <summary>
    /// The trait decoder that judges generated images' traits. Null (the default) picks the exact Nouns part decoder
    /// when the reference is a Nouns collection (it looks like the built-in art); otherwise no decoder is
    /// available and the rarity metrics (rarity score, rare rate, decodable rate, novelty) are null. For collections
    /// without parts, pass <see cref="TraitClassification.TraitClassifier.AsTraitDecoder"/> of a <see cref="TraitClassification.TraitClassifier"/>
    /// trained on the reference collection with tokens held out.
    /// </summary>
    public IImageTraitDecoder? TraitDecoder { get; set; }

    /// <summary>The share of the reference collection counted as rare: rare rate = share of generated images at or above that score. Default 5 %.</summary>
    public double RareQuantile { get; set; } = 0.05;

    /// <summary>
    /// Two generated images are near-identical (duplicates) when they have the same size and no colour channel of any
    /// pixel differs by more than this (0–255; compared at native size up to 64×64, else on 64×64 area-resampled copies).
    /// Default 16: pixel noise of σ ≈ 2 levels stays inside it, while a different part — even a pair of glasses that
    /// changes a handful of pixels — lies outside, since palette colours differ by far more.
    /// </summary>
    public int DuplicatePixelTolerance { get; set; } = 16;

    /// <summary>An optional reward model; when set, its mean over the generated images is reported as <c>reward_mean</c>.</summary>
    public IImageReward? Reward { get; set; }

    /// <summary>Images per reward call. Default 64.</summary>
    public int RewardBatchSize { get; set; } = 64;

    /// <summary>
    /// Further feature extractors (for example the reward ViT's embedding): each adds <c>fid_{Name}</c>, <c>kid_{Name}</c>
    /// and <c>kid_std_{Name}</c> to <see cref="NftGenerationMetrics.AdditionalMetrics"/>. The caller owns them.
    /// </summary>
    internal IList<IImageFeatureExtractor> AdditionalFeatureExtractors { get; } = new List<IImageFeatureExtractor>();

    /// <summary>
    /// A ResNet-18 extractor to reuse (for example across the runs of a reward-weight sweep); the caller owns it. Null
    /// creates one for the evaluation from <see cref="ResNet18Options"/> and disposes it afterwards.
    /// </summary>
    internal ResNet18FeatureExtractor? ResNet18Extractor { get; set; }

    /// <summary>Options of the ResNet-18 extractor created when <see cref="ResNet18Extractor"/> is null.</summary>
    internal ResNet18FeatureExtractorOptions ResNet18Options { get; set; } = new();

    /// <summary>Whether reference features are cached (see <see cref="ReferenceCacheDirectory"/>). Default true.</summary>
    public bool UseReferenceCache { get; set; } = true;

    /// <summary>
    /// Where cached reference features live. Null (the default): <c>$DIFFNFT_CACHE_DIR</c>, else
    /// <c>$XDG_CACHE_HOME/diffnft/reference-features</c>, else <c>~/.cache/diffnft/reference-features</c>. A user cache
    /// folder rather than one beside the reference, because reference collections are often read-only.
    /// </summary>
    public string? ReferenceCacheDirectory { get; set; }

    /// <summary>Stops the evaluation between steps and batches.</summary>
    public CancellationToken CancellationToken { get; set; }

    internal void Validate()
    {
        if (SampleSize < 2) throw new ArgumentOutOfRangeException(nameof(SampleSize), SampleSize, "SampleSize (N) must be at least 2.");
        if (KidSubsets < 1) throw new ArgumentOutOfRangeException(nameof(KidSubsets), KidSubsets, "KidSubsets must be at least 1.");
        if (KidSubsetSize is { } m && (m < 2 || m > SampleSize))
            throw new ArgumentOutOfRangeException(nameof(KidSubsetSize), m, $"KidSubsetSize must be between 2 and SampleSize ({SampleSize}).");
        if (!(RareQuantile > 0 && RareQuantile <= 1))
            throw new ArgumentOutOfRangeException(nameof(RareQuantile), RareQuantile, "RareQuantile must be in (0, 1].");
        if (DuplicatePixelTolerance is < 0 or > 255)
            throw new ArgumentOutOfRangeException(nameof(DuplicatePixelTolerance), DuplicatePixelTolerance, "DuplicatePixelTolerance must be between 0 and 255.");
        if (RewardBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(RewardBatchSize), RewardBatchSize, "RewardBatchSize must be at least 1.");
        var names = new HashSet<string>(StringComparer.Ordinal) { "resnet18" };
        foreach (var e in AdditionalFeatureExtractors)
        {
            if (e is null) throw new ArgumentException("AdditionalFeatureExtractors contains null.", nameof(AdditionalFeatureExtractors));
            if (string.IsNullOrEmpty(e.Name) || e.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
                throw new ArgumentException($"Feature extractor name '{e.Name}' must be non-empty letters, digits and '_' (it becomes a metric key).", nameof(AdditionalFeatureExtractors));
            if (!names.Add(e.Name))
                throw new ArgumentException($"Two feature extractors are named '{e.Name}'; names must differ.", nameof(AdditionalFeatureExtractors));
        }
    }
}
