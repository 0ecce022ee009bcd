using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// Scores images by predicted rarity: <see cref="Transform"/> of an <see cref="IDataView"/> with an image column
/// (<see cref="MLImage"/> or a path) adds <c>RarityReward</c> (Single; the predicted z-scored rarity score by default,
/// see <see cref="RarityRewardKind"/>), <c>RareProbability</c> (Single, calibrated) and <c>Embedding</c> (vector of
/// Single, the ViT width). Images are scored in batches through <see cref="RarityRewardModel.Predict"/>, the same path
/// as the tensor API, so a row gets exactly the numbers <see cref="RarityRewardModel.Forward"/> gives its image.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Transform"/> is lazy, like ML.NET's transforms: images are scored when an output column is read, a batch
/// of <see cref="RarityRewardModel.BatchSize"/> rows at a time, and kept by row position; a cursor that reads none of
/// the output columns scores nothing.
/// </para>
/// <para>
/// Made by <c>mlContext.Transforms.DiffNft.TrainRarityReward(…).Fit(…)</c> or
/// <c>mlContext.Transforms.DiffNft.LoadRarityReward(path)</c>. <c>mlContext.Model.Save</c> cannot store third-party
/// transformers (ML.NET keeps that API internal); save a model holding this transformer with
/// <c>mlContext.Model.SaveDiffNft</c> (this transformer alone: <see cref="Save(string)"/>).
/// </para>
/// </remarks>
public sealed partial class RarityRewardScorerTransformer : ITransformer, IDisposable
{
    private readonly IHost _host;
    private long _scoredImages;

    internal RarityRewardScorerTransformer(IHostEnvironment env, RarityRewardModel model, RarityRewardScorerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(RarityRewardScorerTransformer));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? new RarityRewardScorerOptions();
        try
        {
            Options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
    }

    /// <summary>The reward model (the tensor path, for the RL loop).</summary>
    internal RarityRewardModel Model { get; }

    /// <summary>Column names and reward kind.</summary>
    public RarityRewardScorerOptions Options { get; }

    /// <summary>The validation metrics stored with the model (null when unknown).</summary>
    public RewardMetrics? Metrics => Model.Metrics;

    /// <summary>False: rows are scored in batches, not one by one.</summary>
    public bool IsRowToRowMapper => false;

    /// <summary>Returns a scorer with other options over the same model (shared, not copied).</summary>
    public RarityRewardScorerTransformer WithOptions(RarityRewardScorerOptions options) => new(_host, Model, options);

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return BatchedColumnsDataView<RgbaImage>.OutputSchema(inputSchema, new RewardScorerBatchMapper(this, _host));
    }

    /// <summary>
    /// Adds the reward, rare-probability and embedding columns; checks the input schema and returns at once: images are
    /// scored as rows are read, <see cref="RarityRewardModel.BatchSize"/> at a time (see the class remarks).
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new BatchedColumnsDataView<RgbaImage>(input, new RewardScorerBatchMapper(this, _host));
    }

    /// <summary>Images scored so far by the views this transformer returned (an observation for tests and logs).</summary>
    internal long ScoredImageCount => Interlocked.Read(ref _scoredImages);

    internal void CountScored(int images) => Interlocked.Add(ref _scoredImages, images);

    /// <summary>Not supported: rows are scored in batches.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw _host.Process(new InvalidOperationException("RarityRewardScorerTransformer scores images in batches and is not a row-to-row mapper; call Transform, or RarityRewardModel.Predict for single images."));

    /// <summary>Always throws: use <c>mlContext.Model.SaveDiffNft</c> or <see cref="Save(string)"/>.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw _host.Process(new NotSupportedException(Saving.SavingMessages.UseSaveDiffNft(nameof(RarityRewardScorerTransformer))));

    /// <summary>The default name of the ONNX graph's input: the column ML.NET's <c>ExtractPixels</c> should write.</summary>
    public const string DefaultPixelColumnName = "Pixels";

    /// <summary>
    /// Writes the reward as a standard ONNX model (opset 17, trained weights included; atomic), for scoring without
    /// libtorch with <c>mlContext.Transforms.ApplyOnnxModel</c> or ONNX Runtime.
    /// </summary>
    /// <param name="path">The .onnx file to write; its folder is created when missing.</param>
    /// <param name="pixelColumnName">The graph's input name, which must be the name of the pixel column fed to it.</param>
    /// <remarks>
    /// <para>The input is float [N, 3, S, S] with S = <see cref="VitOptions.ImageSize"/> of <see cref="Model"/>: RGB
    /// planes with values 0 … 255, which is what <c>ExtractPixels</c> produces with its defaults. Images of another size
    /// must be resized to S×S first (<c>ResizeImages</c>); ML.NET's resampling differs from the scorer's antialiased
    /// bilinear filter, so only images already at S×S score exactly as here.</para>
    /// <para>The outputs are named after this scorer's columns (<see cref="RarityRewardScorerOptions"/>): the reward [N]
    /// of <see cref="RarityRewardScorerOptions.RewardKind"/>, the rare probability [N] and the embedding [N, Dim]. The
    /// pipeline is <c>LoadImages → ExtractPixels → ApplyOnnxModel</c>; see docs/onnx.md.</para>
    /// </remarks>
    public void ExportToOnnx(string path, string pixelColumnName = DefaultPixelColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(pixelColumnName);
        var outputs = new[] { Options.RewardColumnName, Options.RareProbabilityColumnName, Options.EmbeddingColumnName };
        if (outputs.Contains(pixelColumnName, StringComparer.Ordinal))
            throw _host.Process(new ArgumentException($"The pixel column '{pixelColumnName}' has the name of an output column.", nameof(pixelColumnName)));
        var graph = Onnx.RarityRewardOnnxExporter.Build(Model, Options.RewardKind, pixelColumnName,
            Options.RewardColumnName, Options.RareProbabilityColumnName, Options.EmbeddingColumnName);
        Onnx.OnnxModelWriter.Write(graph, path);
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();

    internal static (string Name, DataViewType Type)[] OutputColumns(RarityRewardScorerOptions options, int embeddingSize) =>
    [
        (options.RewardColumnName, NumberDataViewType.Single),
        (options.RareProbabilityColumnName, NumberDataViewType.Single),
        (options.EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, embeddingSize)),
    ];
}
