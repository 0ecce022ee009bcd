using System.Runtime.CompilerServices;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML;

// Adds mlContext.NftGeneration: the evaluation of generated NFT images, shaped like ML.NET's task catalogs
// (mlContext.Regression.Evaluate(…) returns RegressionMetrics; mlContext.NftGeneration.Evaluate(…) returns
// NftGenerationMetrics). A C# 14 extension property: consuming projects need LangVersion 14 or later (the .NET 10 default).
public static partial class DiffNftCatalogExtensions
{
    private static readonly ConditionalWeakTable<MLContext, NftGenerationCatalog> s_catalogs = new();

    /// <param name="mlContext">The ML.NET context.</param>
    extension(MLContext mlContext)
    {
        /// <summary>Evaluation of generated NFT collections: FID/KID against a reference, decoder-based rarity, novelty, duplicates.</summary>
        public NftGenerationCatalog NftGeneration
        {
            get
            {
                ArgumentNullException.ThrowIfNull(mlContext);
                // MLContext is itself the host environment, so the user's log and settings reach the evaluator.
                return s_catalogs.GetValue(mlContext, static c => new NftGenerationCatalog(c));
            }
        }
    }
}

/// <summary>The evaluation of generated NFT images, reached as <c>mlContext.NftGeneration</c>.</summary>
public sealed class NftGenerationCatalog
{
    private readonly IHostEnvironment _env;

    internal NftGenerationCatalog(IHostEnvironment env) => _env = env;

    /// <summary>
    /// Evaluates generated images against a reference collection (every metric when it has traits and a trait decoder
    /// handles it, for example a Nouns collection; distribution metrics only otherwise).
    /// </summary>
    /// <param name="generated">The generated images; at least <see cref="NftGenerationEvaluatorOptions.SampleSize"/>.</param>
    /// <param name="reference">The reference collection, with an image per token.</param>
    /// <param name="options">Options; the documented protocol (N = 1,000, seed 0) when null.</param>
    /// <example>
    /// <code>
    /// var reference = NftCollectionLoader.Load("nouns-reference");
    /// var metrics = mlContext.NftGeneration.Evaluate(generatedImages, reference);
    /// Console.WriteLine($"FID-ResNet18 {metrics.FidResNet18:F1}, rarity {metrics.RarityScore:F3}");
    /// </code>
    /// </example>
    public NftGenerationMetrics Evaluate(IReadOnlyList<RgbaImage> generated, NftCollection reference, NftGenerationEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(reference);
        return new NftGenerationEvaluator(_env, options).Evaluate(generated, reference);
    }

    /// <summary>
    /// Evaluates a folder of generated images (as <c>diffnft generate</c> writes it, or any folder of images) against a
    /// reference folder: a collection (metadata and images) or a plain folder of images. See <see cref="EvaluationData"/>.
    /// </summary>
    /// <param name="generatedPath">The generated images' folder (its <c>images/</c> sub-folder is used when present).</param>
    /// <param name="referencePath">The reference collection or image folder.</param>
    /// <param name="options">Options; defaults when null.</param>
    public NftGenerationMetrics Evaluate(string generatedPath, string referencePath, NftGenerationEvaluatorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(generatedPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(referencePath);
        var ct = options?.CancellationToken ?? default;
        var generated = EvaluationData.LoadImageFolder(generatedPath, ct);
        var reference = EvaluationData.LoadReference(referencePath, ct);
        return Evaluate(generated.Tokens.Select(t => t.Image!).ToList(), reference, options);
    }

    /// <summary>
    /// Evaluates the images of an <see cref="IDataView"/> column (for example the output of a diffusion generator
    /// transformer) against a reference collection.
    /// </summary>
    /// <param name="generated">Rows with an image column.</param>
    /// <param name="reference">The reference collection.</param>
    /// <param name="imageColumnName">The column of <see cref="MLImage"/> values; the generator's output column by default.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or does not hold images.</exception>
    public NftGenerationMetrics Evaluate(IDataView generated, NftCollection reference, string imageColumnName = DiffNft.Diffusion.GeneratorOptions.DefaultImageColumnName, NftGenerationEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentException.ThrowIfNullOrWhiteSpace(imageColumnName);
        var column = generated.Schema.GetColumnOrNull(imageColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(imageColumnName), $"Could not find input column '{imageColumnName}'");
        if (column.Type is not ImageDataViewType)
            throw new ArgumentOutOfRangeException(nameof(imageColumnName), $"Schema mismatch for input column '{imageColumnName}': expected Image, got {column.Type}");
        var images = new List<RgbaImage>();
        using (var cursor = generated.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<MLImage>(column);
            MLImage value = null!;
            while (cursor.MoveNext())
            {
                getter(ref value);
                if (value is null) throw new ArgumentException($"Row {cursor.Position} of column '{imageColumnName}' has no image.", nameof(generated));
                images.Add(value.ToRgbaImage());
            }
        }
        return Evaluate(images, reference, options);
    }
}
