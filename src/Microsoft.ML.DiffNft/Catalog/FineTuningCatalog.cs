using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML;

// RL fine-tuning of diffusion generators: mlContext.Transforms.DiffNft.FineTune(…).
public static partial class DiffNftCatalogExtensions
{
    /// <summary>
    /// Creates a <see cref="FineTuneEstimator"/>: <c>Fit</c> on an <see cref="IDataView"/> of prompts fine-tunes
    /// <paramref name="baseModel"/> for <paramref name="reward"/> (PPO with the exact KL to the base model, or reward
    /// backpropagation) and returns a generator of the same type, with the base's generator options.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="baseModel">The pretrained generator (left unchanged).</param>
    /// <param name="reward">The reward to maximise; use <see cref="WeightedReward"/> for a weighted sum.</param>
    /// <param name="options">Fine-tuning options (defaults: PPO, LoRA rank 4, DDPO settings).</param>
    /// <example>
    /// <code>
    /// var reward = WeightedReward.RarityAndFidelity(rarity, 1.0, new DenoisingFidelityReward(generator.PackageModel), 0.5);
    /// var tuned = mlContext.Transforms.DiffNft.FineTune(generator, reward, new FineTuneOptions { MaxIterations = 50 })
    ///     .Fit(mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = "a noun" } }));
    /// </code>
    /// </example>
    public static FineTuneEstimator FineTune(this DiffNftCatalog catalog, DiffusionGeneratorTransformer baseModel,
        IImageReward reward, FineTuneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FineTuneEstimator(catalog.Environment, baseModel, reward, options ?? new FineTuneOptions());
    }

    /// <summary>
    /// Fine-tunes for the paper's composite <c>rarityWeight·R_rarity + fidelityWeight·R_fidelity</c>, where R_fidelity is
    /// the <see cref="DenoisingFidelityReward"/> of the base model. Either weight may be 0; a reward whose weight is 0 is
    /// never computed.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="baseModel">The pretrained generator (left unchanged).</param>
    /// <param name="rarityReward">The rarity reward (for example the rarity model's logit).</param>
    /// <param name="rarityWeight">Weight of the rarity reward.</param>
    /// <param name="fidelityWeight">Weight of the fidelity reward.</param>
    /// <param name="options">Fine-tuning options.</param>
    public static FineTuneEstimator FineTune(this DiffNftCatalog catalog, DiffusionGeneratorTransformer baseModel,
        IImageReward rarityReward, double rarityWeight, double fidelityWeight, FineTuneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(baseModel);
        var reward = WeightedReward.RarityAndFidelity(rarityReward, rarityWeight, new DenoisingFidelityReward(baseModel.PackageModel), fidelityWeight);
        return new FineTuneEstimator(catalog.Environment, baseModel, reward, options ?? new FineTuneOptions());
    }
}
