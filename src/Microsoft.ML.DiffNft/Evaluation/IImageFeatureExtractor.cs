using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Turns images into fixed-length feature vectors for distribution metrics (FID, KID, diversity). The built-in one is
/// <see cref="ResNet18FeatureExtractor"/>; a domain-specific one (for example the reward ViT's embedding) plugs in through
/// NftGenerationEvaluatorOptions.AdditionalFeatureExtractors.
/// </summary>
internal interface IImageFeatureExtractor
{
    /// <summary>A short name used in metric keys (<c>fid_{Name}</c>, <c>kid_{Name}</c>), letters, digits and '_' only.</summary>
    string Name { get; }

    /// <summary>The length of every feature vector.</summary>
    int Dimension { get; }

    /// <summary>
    /// A text that changes whenever the features of the same image would change (weights, preprocessing, version), used
    /// in the key of cached reference features; null disables caching for this extractor.
    /// </summary>
    string? CacheIdentity { get; }

    /// <summary>Extracts one feature vector of length <see cref="Dimension"/> per image, in input order.</summary>
    /// <param name="images">Images of any size; the extractor resizes them by its own documented rule.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    float[][] Extract(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default);
}
