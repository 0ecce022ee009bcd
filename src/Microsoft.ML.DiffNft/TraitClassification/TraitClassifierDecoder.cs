using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// An <see cref="IImageTraitDecoder"/> for collections without parts: a <see cref="TraitClassifier"/> trained on the
/// reference collection with tokens held out reads each image's traits (every head's most probable class; "missing"
/// leaves the trait out). An image is decodable when every head's top probability reaches
/// <see cref="ConfidenceThreshold"/>: garbage, noise and blends of several tokens — which the classifier was trained
/// to be unsure about — count as undecodable and never as rare.
/// </summary>
internal sealed class TraitClassifierDecoder : IImageTraitDecoder
{
    /// <summary>The default <see cref="ConfidenceThreshold"/>: 0.5, so the top class is more likely than all others together.</summary>
    public const double DefaultConfidenceThreshold = 0.5;

    /// <summary>Creates the decoder. The caller keeps ownership of <paramref name="classifier"/>.</summary>
    /// <param name="classifier">The trained classifier.</param>
    /// <param name="confidenceThreshold">The smallest top probability every head needs for an image to be decodable (0 … 1).</param>
    public TraitClassifierDecoder(TraitClassifier classifier, double confidenceThreshold = DefaultConfidenceThreshold)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        if (!(confidenceThreshold >= 0 && confidenceThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(confidenceThreshold), confidenceThreshold, "The confidence threshold must lie in [0, 1].");
        Classifier = classifier;
        ConfidenceThreshold = confidenceThreshold;
    }

    /// <summary>The classifier.</summary>
    public TraitClassifier Classifier { get; }

    /// <summary>The smallest top probability every head needs for an image to be decodable.</summary>
    public double ConfidenceThreshold { get; }

    /// <inheritdoc/>
    public string Name => "trait-classifier";

    /// <summary>
    /// Checks that <paramref name="reference"/> is a collection this classifier can judge: every head's trait type is
    /// one of its trait types (compared trimmed and lower-cased, as OpenRarity does). A classifier trained on another
    /// collection would otherwise decode traits the reference's rarity table has never heard of.
    /// </summary>
    /// <exception cref="ArgumentException">A head's trait type is not one of the reference's.</exception>
    public void EnsureMatches(NftCollection reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var types = reference.TraitTypes.Select(TraitText.Normalize).ToHashSet(StringComparer.Ordinal);
        var missing = Classifier.Heads.Where(h => !types.Contains(TraitText.Normalize(h.TraitType))).Select(h => $"'{h.TraitType}'").ToList();
        if (missing.Count > 0)
            throw new ArgumentException(
                $"The trait classifier reads trait types that the reference '{reference.Name}' does not have ({string.Join(", ", missing)}); " +
                $"it has {(types.Count == 0 ? "no traits" : string.Join(", ", reference.TraitTypes.Select(t => $"'{t}'")))}. " +
                "Train the classifier on the reference collection (diffnft train-trait-classifier).", nameof(reference));
    }

    /// <inheritdoc/>
    public IReadOnlyList<DecodedImageTraits> Decode(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var predictions = Classifier.Predict(images, cancellationToken);
        var results = new DecodedImageTraits[predictions.Count];
        for (int i = 0; i < predictions.Count; i++)
        {
            var p = predictions[i];
            var attributes = new List<NftAttribute>(p.Heads.Count);
            for (int h = 0; h < p.Heads.Count; h++)
                if (p.Heads[h].Value is { } value)
                    attributes.Add(new NftAttribute(Classifier.Heads[h].TraitType, value));
            results[i] = new DecodedImageTraits(p.MinProbability >= ConfidenceThreshold, attributes);
        }
        return results;
    }
}
