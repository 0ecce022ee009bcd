using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Trains a text-to-image diffusion model on an <see cref="IDataView"/> with an image column (<see cref="MLImage"/> or a
/// path) and a caption column, and returns a <see cref="DiffusionGeneratorTransformer"/>. Created by
/// <c>mlContext.Transforms.DiffNft.TrainDiffusion(options)</c>.
/// </summary>
public sealed class TrainDiffusionEstimator : IEstimator<DiffusionGeneratorTransformer>
{
    private readonly IHost _host;

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
    }

    /// <summary>The training options.</summary>
    public DiffusionTrainerOptions Options { get; }

    /// <summary>Settings of the returned generator (prompt, seed and image columns, sampling).</summary>
    public GeneratorOptions GeneratorOptions { get; init; } = new();

    /// <inheritdoc/>
    public DiffusionGeneratorTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var images = ColumnReaders.ReadImages(_host, input, Options.ImageColumnName, "image");
        var captions = ColumnReaders.ReadText(_host, input, Options.CaptionColumnName, "caption");
        using var ch = _host.Start("TrainDiffusion");
        ch.Info(MessageSensitivity.None, $"Training a {Options.Preset} diffusion model on {images.Count} images for up to {Options.MaxSteps} steps.");
        var userProgress = Options.Progress;
        var bridged = Options with
        {
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p =>
            {
                ch.Info(MessageSensitivity.None, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} elapsed {p.Elapsed:hh\\:mm\\:ss}");
                userProgress?.Report(p);
            }),
        };
        var model = new DiffusionTrainer(bridged).Train(images, captions);
        return new DiffusionGeneratorTransformer(_host, model, GeneratorOptions);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var prompt = inputSchema.FirstOrDefault(c => c.Name == GeneratorOptions.PromptColumnName);
        if (prompt.Name is null)
            throw _host.Process(new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find prompt column '{GeneratorOptions.PromptColumnName}'"));
        if (prompt.ItemType is not TextDataViewType || prompt.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw _host.Process(new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for prompt column '{GeneratorOptions.PromptColumnName}': expected String, got {prompt.ItemType}"));
        int size = Options.ResolveUNet().ImageSize;
        return SchemaShapeOracle.WithColumns(inputSchema, new (string, DataViewType)[] { (GeneratorOptions.ImageColumnName, new ImageDataViewType(size, size)) });
    }
}
