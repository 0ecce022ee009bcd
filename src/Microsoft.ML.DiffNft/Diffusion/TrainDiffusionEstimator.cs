using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Trains a text-to-image diffusion model on an <see cref="IDataView"/> with an image column (<see cref="MLImage"/> or a
/// path) and a caption column, and returns a <see cref="DiffusionGeneratorTransformer"/>. Created by
/// <c>mlContext.Transforms.DiffNft.TrainDiffusion(options)</c>.
/// </summary>
/// <remarks>
/// <para>
/// The returned generator reads its prompts from the caption column unless <see cref="GeneratorOptions.PromptColumnName"/>
/// names another, and adds <c>GeneratedImage</c> (<see cref="GeneratorOptions.ImageColumnName"/>) beside the input
/// columns, so in a chain it generates an image per row from that row's caption (lazily: only when the column is read)
/// and estimators after it still train on the collection's <c>Image</c> column.
/// </para>
/// <para>
/// <see cref="GetOutputSchema"/> checks what <see cref="Fit"/> reads (the image and caption columns) and what the
/// generator's <c>Transform</c> reads (the prompt column, and the seed column when present), as ML.NET's estimators do.
/// An unset <see cref="DiffusionTrainerOptions.Seed"/> is drawn from the context's seed when the estimator is made.
/// <c>MLContext.CancelExecution()</c> stops training like <see cref="DiffusionTrainerOptions.CancellationToken"/>.
/// </para>
/// </remarks>
public sealed class TrainDiffusionEstimator : IEstimator<DiffusionGeneratorTransformer>
{
    private readonly IHost _host;
    private readonly int _seed;

    internal TrainDiffusionEstimator(IHostEnvironment env, DiffusionTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(TrainDiffusionEstimator));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        try
        {
            Options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
        _seed = ContextSeed.Resolve(Options.Seed, _host);
    }

    /// <summary>The training options, as given (an unset seed stays unset here; the log names the seed used).</summary>
    public DiffusionTrainerOptions Options { get; }

    /// <summary>Settings of the returned generator (prompt, seed and image columns, sampling).</summary>
    public GeneratorOptions GeneratorOptions { get; init; } = new();

    /// <summary>The prompt column of the returned generator: <see cref="GeneratorOptions.PromptColumnName"/>, or the caption column.</summary>
    private string PromptColumnName => GeneratorOptions.PromptColumnName ?? Options.CaptionColumnName;

    /// <inheritdoc/>
    public DiffusionGeneratorTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var images = ColumnReaders.ReadImages(_host, input, Options.ImageColumnName, "image");
        var captions = ColumnReaders.ReadText(_host, input, Options.CaptionColumnName, "caption");
        using var ch = _host.Start("TrainDiffusion");
        ch.Info(MessageSensitivity.None, $"Training a {Options.Preset} diffusion model on {images.Count} images for up to {Options.MaxSteps} steps (seed {_seed}).");
        var userProgress = Options.Progress;
        using var cancel = HostCancellation.Observe(_host, Options.CancellationToken);
        var bridged = Options with
        {
            Seed = _seed,
            CancellationToken = cancel.Token,
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p =>
            {
                ch.Info(MessageSensitivity.None, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} elapsed {p.Elapsed:hh\\:mm\\:ss}");
                userProgress?.Report(p);
            }),
        };
        var model = new DiffusionTrainer(bridged).Train(images, captions);
        return new DiffusionGeneratorTransformer(_host, model, GeneratorOptions, Options.CaptionColumnName);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        // What Fit reads …
        SchemaShapeChecks.CheckImage(_host, inputSchema, Options.ImageColumnName, "image");
        SchemaShapeChecks.CheckText(_host, inputSchema, Options.CaptionColumnName, "caption");
        // … and what the generator's Transform reads.
        SchemaShapeChecks.CheckText(_host, inputSchema, PromptColumnName, "prompt");
        SchemaShapeChecks.CheckOptionalInteger(_host, inputSchema, GeneratorOptions.SeedColumnName, "seed");
        // A preset trains at the collection's size, which the image column's type carries when it is known here.
        // A latent model's images are its UNet's side times the VAE's downscale factor.
        int factor = Options.Latent?.DownscaleFactor ?? 1;
        int size = Options.UNet is { } unet ? unet.ImageSize * factor : (inputSchema.FirstOrDefault(c => c.Name == Options.ImageColumnName).ItemType is ImageDataViewType image
            && image.Height == image.Width && image.Height > 0 ? image.Height : Options.ResolveUNet().ImageSize * factor);
        return SchemaShapeOracle.WithColumns(inputSchema, new (string, DataViewType)[] { (GeneratorOptions.ImageColumnName, new ImageDataViewType(size, size)) });
    }
}
