using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Generates images from prompts: <see cref="Transform"/> of an <see cref="IDataView"/> with a prompt column (and an
/// optional integer seed column) adds an image column of type <see cref="ImageDataViewType"/> holding <see cref="MLImage"/>,
/// so ML.NET's image transforms compose with it. Images are generated in batches when <see cref="Transform"/> is called;
/// each depends only on its prompt and seed (row index + <see cref="GeneratorOptions.Seed"/> when there is no seed column).
/// </summary>
/// <remarks>
/// <c>mlContext.Model.Save</c> cannot store third-party transformers (ML.NET keeps that API internal); save the model with
/// <see cref="SaveModel"/> and load it with <c>mlContext.Transforms.DiffNft.LoadDiffusionGenerator(path)</c>.
/// </remarks>
public sealed class DiffusionGeneratorTransformer : ITransformer, IDisposable
{
    private readonly IHost _host;

    internal DiffusionGeneratorTransformer(IHostEnvironment env, DiffusionModel model, GeneratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(DiffusionGeneratorTransformer));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? new GeneratorOptions();
        Options.Generation.Validate();
    }

    /// <summary>The diffusion model.</summary>
    public DiffusionModel Model { get; }

    /// <summary>Column names, seed and sampling settings.</summary>
    public GeneratorOptions Options { get; }

    /// <summary>False: rows are generated in batches, not one by one.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>Returns a generator with other options over the same model (the model is shared, not copied).</summary>
    public DiffusionGeneratorTransformer WithOptions(GeneratorOptions options) => new(_host, Model, options);

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(Options.ImageColumnName, ImageType);
        return builder.ToSchema();
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema);
        var prompts = ColumnReaders.ReadText(_host, input, Options.PromptColumnName, "prompt");
        var seeds = ColumnReaders.ReadOptionalIntegers(_host, input, Options.SeedColumnName, "seed")
                    ?? Enumerable.Range(0, prompts.Count).Select(i => Options.Seed + (long)i).ToList();
        using var ch = _host.Start("Generate");
        ch.Info(MessageSensitivity.None, $"Generating {prompts.Count} images ({Options.Generation.Steps} DDIM steps, guidance {Options.Generation.GuidanceScale}).");
        var images = Model.Generate(prompts, seeds, Options.Generation, cancellationToken: Options.CancellationToken);
        var mlImages = images.Select(i => i.ToMLImage()).ToArray();
        return new AppendedColumnsDataView(input, AppendedColumn.Create(Options.ImageColumnName, ImageType, mlImages));
    }

    /// <summary>Not supported: rows are generated in batches.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw _host.Process(new InvalidOperationException("DiffusionGeneratorTransformer generates images in batches and is not a row-to-row mapper; call Transform."));

    /// <summary>Always throws: use <see cref="SaveModel"/>.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("ML.NET cannot save third-party transformers through mlContext.Model.Save. Use DiffusionGeneratorTransformer.SaveModel(path) and mlContext.Transforms.DiffNft.LoadDiffusionGenerator(path).");

    /// <summary>Saves the diffusion model to the package's model file (atomic).</summary>
    public void SaveModel(string path) => Model.Save(path);

    private ImageDataViewType ImageType => new(Model.Options.UNet.ImageSize, Model.Options.UNet.ImageSize);

    private void CheckInput(DataViewSchema schema)
    {
        var prompt = ColumnReaders.Find(_host, schema, Options.PromptColumnName, "prompt");
        if (prompt.Type is not TextDataViewType)
            throw _host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for prompt column '{Options.PromptColumnName}': expected String, got {prompt.Type}"));
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}

/// <summary>Options of <see cref="DiffusionGeneratorTransformer"/>.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Input column with the prompts.</summary>
    public string PromptColumnName { get; init; } = "Prompt";

    /// <summary>Optional input column with a per-row seed (Int64, Int32 or UInt32).</summary>
    public string SeedColumnName { get; init; } = "Seed";

    /// <summary>Output image column.</summary>
    public string ImageColumnName { get; init; } = "Image";

    /// <summary>Base seed when there is no seed column: row i uses Seed + i.</summary>
    public long Seed { get; init; }

    /// <summary>Sampling settings.</summary>
    public SamplingOptions Generation { get; init; } = new();

    /// <summary>Device used when loading a model file.</summary>
    public Torch.DiffNftDevice Device { get; init; } = Torch.DiffNftDevice.Auto;

    /// <summary>Stops generation between batches.</summary>
    public CancellationToken CancellationToken { get; init; }
}
