using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML;

// <summary>
// The rarity reward in ML.NET pipelines: <c>mlContext.Transforms.DiffNft.TrainRarityReward(…)</c> and
// <c>mlContext.Transforms.DiffNft.LoadRarityReward(path)</c>.
// </summary>
public static partial class DiffNftCatalogExtensions
{
    /// <summary>
    /// Creates a <see cref="TrainRarityRewardEstimator"/>: <c>Fit</c> trains a Vision Transformer to predict the rarity
    /// score and the rare flag from pixels and returns a <see cref="RarityRewardScorerTransformer"/> that adds
    /// <c>RarityReward</c>, <c>RareProbability</c> and <c>Embedding</c> to rows with an image.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="imageColumnName">Image column (<see cref="Microsoft.ML.Data.MLImage"/> or a path).</param>
    /// <param name="scoreColumnName">Rarity score column (Single or Double), from <c>ComputeTraitRarity</c>.</param>
    /// <param name="isRareColumnName">Rare flag column (Boolean), from <c>ComputeTraitRarity</c>.</param>
    /// <param name="preset">Model size.</param>
    /// <param name="maxSteps">Step budget (early stopping may end training sooner).</param>
    /// <example>
    /// <code>
    /// var rarity = mlContext.Transforms.DiffNft.ComputeTraitRarity().Fit(collection);
    /// var reward = mlContext.Transforms.DiffNft.TrainRarityReward().Fit(rarity.Transform(collection));
    /// Console.WriteLine(reward.Metrics!.Spearman);
    /// var scored = reward.Transform(images);   // RarityReward, RareProbability, Embedding
    /// </code>
    /// </example>
    public static TrainRarityRewardEstimator TrainRarityReward(this DiffNftCatalog catalog,
        string imageColumnName = "Image", string scoreColumnName = "RarityScore", string isRareColumnName = "IsRare",
        VitPreset preset = VitPreset.Small, int maxSteps = 3000)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TrainRarityRewardEstimator(catalog.Environment, new RarityRewardTrainerOptions
        {
            ImageColumnName = imageColumnName,
            ScoreColumnName = scoreColumnName,
            IsRareColumnName = isRareColumnName,
            Preset = preset,
            MaxSteps = maxSteps,
        }, null);
    }

    /// <summary>Creates a <see cref="TrainRarityRewardEstimator"/> with full control over training and the returned scorer.</summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="options">Training options (columns, preset, budget, split, seed, progress, cancellation).</param>
    /// <param name="scorerOptions">Settings of the returned scorer; null to read the training image column and use the default outputs.</param>
    public static TrainRarityRewardEstimator TrainRarityReward(this DiffNftCatalog catalog, RarityRewardTrainerOptions options,
        RarityRewardScorerOptions? scorerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new TrainRarityRewardEstimator(catalog.Environment, options, scorerOptions);
    }

    /// <summary>Loads a scorer saved with <see cref="RarityRewardScorerTransformer.Save(string)"/> or <see cref="RarityRewardModel.Save"/>.</summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="path">The model file.</param>
    /// <param name="options">Scorer settings (columns, reward kind, device); null uses the ones saved with the scorer (the defaults for a bare model).</param>
    public static RarityRewardScorerTransformer LoadRarityReward(this DiffNftCatalog catalog, string path, RarityRewardScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return RarityRewardScorerTransformer.FromEntries(catalog.Environment, DiffNft.Torch.ModelArchive.Read(path), path, options);
    }
}
