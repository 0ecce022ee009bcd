using Microsoft.ML.DiffNft.Diffusion;

namespace Microsoft.ML;

/// <summary>
/// The neural DiffNft operations of <c>mlContext.Transforms.DiffNft</c>: diffusion models (this file), the rarity reward
/// (RewardCatalog.cs) and RL fine-tuning (FineTuningCatalog.cs). Trait rarity is in the rarity package's
/// <see cref="TraitRarityCatalog"/>.
/// </summary>
public static partial class DiffNftCatalogExtensions
{
    /// <summary>
    /// Creates a <see cref="TrainDiffusionEstimator"/>: <c>Fit</c> trains a text-to-image diffusion model on the image and
    /// caption columns and returns a <see cref="DiffusionGeneratorTransformer"/> that adds generated images to rows with a prompt.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="options">Training options (columns, preset, steps or time, checkpoints, seed, progress, cancellation).</param>
    /// <param name="generatorOptions">Settings of the returned generator (prompt, seed and image columns; sampling).</param>
    /// <example>
    /// <code>
    /// var generator = mlContext.Transforms.DiffNft.TrainDiffusion(new DiffusionTrainerOptions { MaxSteps = 2000 }).Fit(collection);
    /// var images = generator.Transform(mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = "a noun, head goat" } }));
    /// </code>
    /// </example>
    public static TrainDiffusionEstimator TrainDiffusion(this DiffNftCatalog catalog, DiffusionTrainerOptions options, GeneratorOptions? generatorOptions = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new TrainDiffusionEstimator(catalog.Environment, options) { GeneratorOptions = generatorOptions ?? new GeneratorOptions() };
    }

    /// <summary>
    /// Loads a generator saved with <see cref="DiffusionGeneratorTransformer.Save(string)"/> (or a model saved with
    /// <see cref="DiffusionModel.Save"/>).
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="path">The model file.</param>
    /// <param name="options">Generator settings; null uses the ones saved with the generator (the defaults for a bare model).</param>
    public static DiffusionGeneratorTransformer LoadDiffusionGenerator(this DiffNftCatalog catalog, string path, GeneratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return DiffusionGeneratorTransformer.FromEntries(catalog.Environment, DiffNft.Torch.ModelArchive.Read(path), path, options);
    }
}
