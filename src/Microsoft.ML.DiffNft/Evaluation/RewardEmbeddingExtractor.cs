using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// The reward ViT's pooled embedding as a second, domain-specific feature extractor for FID, KID and diversity
/// (<see cref="NftGenerationEvaluatorOptions.AdditionalFeatureExtractors"/>; keys <c>fid_vit</c>, <c>kid_vit</c>, …).
/// Unlike ImageNet's ResNet-18 it was trained on the collection itself, so its distances weigh the traits that make a
/// token what it is. Never use it to judge a model that was fine-tuned against the same reward: that measures reward
/// hacking, not fidelity. Images go through <see cref="RewardPreprocessing.Prepare"/>, the reward's one preprocessing.
/// </summary>
internal sealed class RewardEmbeddingExtractor : IImageFeatureExtractor
{
    private readonly RarityRewardModel _model;

    /// <summary>Wraps a reward model (not owned: the caller disposes it).</summary>
    /// <param name="model">The reward model.</param>
    /// <param name="name">The metric-key name (default <c>vit</c>).</param>
    /// <param name="cacheIdentity">
    /// A text that identifies the model's weights (for example a hash of its file), so reference features can be
    /// cached; null (default) disables caching, since the same options can hold different weights.
    /// </param>
    public RewardEmbeddingExtractor(RarityRewardModel model, string name = "vit", string? cacheIdentity = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        CacheIdentity = cacheIdentity is null ? null : $"reward-embedding:{cacheIdentity}";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int Dimension => _model.EmbeddingSize;

    /// <inheritdoc/>
    public string? CacheIdentity { get; }

    /// <inheritdoc/>
    public float[][] Extract(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = new float[images.Count][];
        // Chunks keep cancellation responsive; Predict batches inside each chunk.
        const int chunk = 256;
        for (int start = 0; start < images.Count; start += chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var part = images.Skip(start).Take(chunk).ToList();
            var embeddings = _model.Predict(part).Embeddings;
            for (int i = 0; i < part.Count; i++) result[start + i] = embeddings[i];
        }
        return result;
    }
}
