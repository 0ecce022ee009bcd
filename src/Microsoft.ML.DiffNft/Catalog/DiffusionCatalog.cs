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

    /// <summary>
    /// Loads a Stable Diffusion pipeline from a diffusers folder (<c>model_index.json</c>, <c>unet/</c>, <c>vae/</c>,
    /// <c>text_encoder/</c>, <c>tokenizer/</c>, <c>scheduler/</c>; safetensors weights only) as a generator that adds
    /// images to rows with a prompt, exactly as a generator over the package's own model does. With
    /// <paramref name="loraPath"/> the UNet runs with that adapter (diffusers' LoRA file layout, e.g. one written by
    /// <c>diffnft finetune --base &lt;folder&gt;</c>). Such a generator is not saved into a DiffNft model file: load it from its
    /// folder again.
    /// </summary>
    /// <param name="catalog">The DiffNft transforms catalog.</param>
    /// <param name="folder">The diffusers pipeline folder.</param>
    /// <param name="options">Generator settings (columns, seed, sampling, device); null for the defaults.</param>
    /// <param name="loraPath">A LoRA adapter file for the UNet; null for none.</param>
    /// <param name="negativePrompt">The prompt classifier-free guidance steers away from; "" as diffusers.</param>
    /// <example>
    /// <code>
    /// using var generator = mlContext.Transforms.DiffNft.LoadStableDiffusionGenerator("stable-diffusion-v1-5",
    ///     new GeneratorOptions { Generation = new SamplingOptions { Steps = 50, GuidanceScale = 7.5 } });
    /// var images = generator.Transform(mlContext.Data.LoadFromEnumerable(new[] { new { Prompt = "a pixel-art ape with laser eyes" } }));
    /// </code>
    /// </example>
    public static DiffusionGeneratorTransformer LoadStableDiffusionGenerator(this DiffNftCatalog catalog, string folder,
        GeneratorOptions? options = null, string? loraPath = null, string negativePrompt = "")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var model = DiffNft.StableDiffusion.StableDiffusionLoader.Load(folder, new DiffNft.StableDiffusion.StableDiffusionLoadOptions
        {
            Device = options?.Device ?? DiffNft.Torch.DiffNftDevice.Auto,
            NegativePrompt = negativePrompt ?? "",
        });
        IDisposable? adapter = null;
        try
        {
            if (loraPath is not null) adapter = DiffNft.StableDiffusion.DiffusersLoraFile.Attach(model, loraPath);
            return new DiffusionGeneratorTransformer(catalog.Environment, model, options, ownedExtras: adapter);
        }
        catch
        {
            adapter?.Dispose();
            model.Dispose();
            throw;
        }
    }
}

