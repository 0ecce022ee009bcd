using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Generates images from prompts: <see cref="Transform"/> of an <see cref="IDataView"/> with a prompt column (and an
/// optional integer seed column) adds an image column, <c>GeneratedImage</c> by default, of type
/// <see cref="ImageDataViewType"/> holding <see cref="MLImage"/>, so ML.NET's image transforms compose with it. The input
/// columns, an <c>Image</c> column included, pass through unchanged, so estimators later in a chain still see the
/// collection's images.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Transform"/> is lazy, like ML.NET's transforms: it checks the schema and returns at once; images are
/// generated when the image column is read, <see cref="SamplingOptions.BatchSize"/> rows at a time, and kept by row
/// position, so <c>Preview(n)</c> or <c>TakeRows(…, 1)</c> pays for the batches it reads, a cursor that does not read
/// the image column generates nothing, and a second pass generates nothing again. Each image depends only on its prompt
/// and seed (the seed column, or <see cref="GeneratorOptions.Seed"/> + row position), never on its batch.
/// </para>
/// <para>
/// <c>mlContext.Model.Save</c> cannot store third-party transformers (ML.NET keeps that API internal); save a model holding
/// this transformer with <c>mlContext.Model.SaveDiffNft</c> (this transformer alone: <see cref="Save(string)"/>).
/// </para>
/// </remarks>
public sealed partial class DiffusionGeneratorTransformer : ITransformer, IDisposable
{
    private readonly IHost _host;
    private readonly IDisposable? _ownedExtras;
    private long _generatedImages;

    /// <summary>Makes a generator; unset options are resolved here (see <see cref="GeneratorOptions"/>).</summary>
    /// <param name="env">The context's environment; an unset <see cref="GeneratorOptions.Seed"/> is drawn from it.</param>
    /// <param name="model">The diffusion model.</param>
    /// <param name="options">The options; null for the defaults.</param>
    /// <param name="defaultPromptColumnName">The prompt column when <see cref="GeneratorOptions.PromptColumnName"/> is null.</param>
    /// <param name="ownedExtras">Disposed with the generator before the model (a LoRA adapter attached to it).</param>
    internal DiffusionGeneratorTransformer(IHostEnvironment env, DenoisingModel model, GeneratorOptions? options,
        string defaultPromptColumnName = GeneratorOptions.DefaultPromptColumnName, IDisposable? ownedExtras = null)
    {
        _ownedExtras = ownedExtras;
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(DiffusionGeneratorTransformer));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        options ??= new GeneratorOptions();
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
        Options = options with
        {
            PromptColumnName = options.PromptColumnName ?? defaultPromptColumnName,
            Seed = ContextSeed.Resolve(options.Seed, _host),
        };
    }

    /// <summary>The diffusion model: the package's own, or a Stable Diffusion pipeline.</summary>
    internal DenoisingModel Model { get; }

    /// <summary>The package's own model, for what only it supports (saving into a model file, the fidelity reward, fine-tuning estimators).</summary>
    internal DiffusionModel PackageModel => Model as DiffusionModel ?? throw _host.Process(new NotSupportedException(
        "This generator runs a Stable Diffusion pipeline; it is loaded from its diffusers folder (LoadStableDiffusionGenerator), not saved into a " +
        "DiffNft model file, and the fidelity reward and the fine-tuning estimator take the package's own models. Fine-tune it with 'diffnft finetune --base <folder>'."));

    /// <summary>Column names, seed and sampling settings, resolved: the prompt column and the seed are always set.</summary>
    public GeneratorOptions Options { get; }

    /// <summary>False: rows are generated in batches, not one by one.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>Images generated so far by the views this transformer returned (an observation for tests and logs).</summary>
    internal long GeneratedImageCount => Interlocked.Read(ref _generatedImages);

    /// <summary>
    /// Returns a generator with other options over the same model (the model is shared, not copied). An unset prompt
    /// column keeps this generator's; an unset seed is drawn from the context again.
    /// </summary>
    public DiffusionGeneratorTransformer WithOptions(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(_host, Model, options, Options.PromptColumnName!);
    }

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return BatchedColumnsDataView<GeneratorBatchMapper.Row>.OutputSchema(inputSchema, new GeneratorBatchMapper(this, _host));
    }

    /// <summary>Adds the image column; checks the input schema and returns at once: images are generated as rows are read.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new BatchedColumnsDataView<GeneratorBatchMapper.Row>(input, new GeneratorBatchMapper(this, _host));
    }

    /// <summary>Not supported: rows are generated in batches.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw _host.Process(new InvalidOperationException("DiffusionGeneratorTransformer generates images in batches and is not a row-to-row mapper; call Transform."));

    /// <summary>Always throws: use <c>mlContext.Model.SaveDiffNft</c> or <see cref="Save(string)"/>.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(Saving.SavingMessages.UseSaveDiffNft(nameof(DiffusionGeneratorTransformer)));

    internal ImageDataViewType ImageType => new(Model.ImageSize, Model.ImageSize);

    internal void CountGenerated(int images) => Interlocked.Add(ref _generatedImages, images);

    /// <inheritdoc/>
    public void Dispose()
    {
        _ownedExtras?.Dispose();
        Model.Dispose();
    }
}

/// <summary>Options of <see cref="DiffusionGeneratorTransformer"/>.</summary>
public sealed record GeneratorOptions
{
    /// <summary>The prompt column of a generator loaded from a file when <see cref="PromptColumnName"/> is null.</summary>
    public const string DefaultPromptColumnName = "Prompt";

    /// <summary>The default output image column: not <c>Image</c>, so the collection's images pass through beside it.</summary>
    public const string DefaultImageColumnName = "GeneratedImage";

    /// <summary>
    /// Input column with the prompts (String). Null (default): the caption column the model was trained on
    /// (<see cref="DiffusionTrainerOptions.CaptionColumnName"/>, <c>Caption</c> by default) for a generator made by
    /// <c>TrainDiffusion</c>, so that in a chain it generates one image per training row from that row's caption; and
    /// <see cref="DefaultPromptColumnName"/> (<c>Prompt</c>) for one loaded by <c>LoadDiffusionGenerator</c>. A generator's
    /// <see cref="DiffusionGeneratorTransformer.Options"/> hold the resolved name.
    /// </summary>
    public string? PromptColumnName { get; init; }

    /// <summary>Optional input column with a per-row seed (Int64, Int32 or UInt32).</summary>
    public string SeedColumnName { get; init; } = "Seed";

    /// <summary>Output image column; <see cref="DefaultImageColumnName"/> (<c>GeneratedImage</c>) by default.</summary>
    public string ImageColumnName { get; init; } = DefaultImageColumnName;

    /// <summary>
    /// Base seed when there is no seed column: row i uses Seed + i. Null (default): drawn from the context's seed when
    /// the generator is made (by <c>TrainDiffusion</c>, <c>LoadDiffusionGenerator</c> or <c>FineTune</c>, which
    /// keeps its base generator's), so <c>new MLContext(seed: s)</c> reproduces the images and another seed changes them.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>Sampling settings.</summary>
    public SamplingOptions Generation { get; init; } = new();

    /// <summary>Device used when loading a model file.</summary>
    public Torch.DiffNftDevice Device { get; init; } = Torch.DiffNftDevice.Auto;

    /// <summary>Stops generation between batches and denoising steps (so does <c>MLContext.CancelExecution()</c>).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (PromptColumnName is not null && string.IsNullOrWhiteSpace(PromptColumnName))
            throw new ArgumentOutOfRangeException(nameof(PromptColumnName), PromptColumnName, "A column name cannot be empty; leave it null for the default.");
        if (string.IsNullOrWhiteSpace(SeedColumnName)) throw new ArgumentOutOfRangeException(nameof(SeedColumnName), SeedColumnName, "A column name cannot be empty.");
        if (string.IsNullOrWhiteSpace(ImageColumnName)) throw new ArgumentOutOfRangeException(nameof(ImageColumnName), ImageColumnName, "A column name cannot be empty.");
        Generation.Validate();
    }
}
