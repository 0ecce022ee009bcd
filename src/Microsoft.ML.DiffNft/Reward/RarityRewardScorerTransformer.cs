using System.Collections;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
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
/// Made by <c>mlContext.Transforms.DiffNft.TrainRarityReward(…).Fit(…)</c> or
/// <c>mlContext.Transforms.DiffNft.LoadRarityReward(path)</c>. <c>mlContext.Model.Save</c> cannot store third-party
/// transformers (ML.NET keeps that API internal); save a model holding this transformer with
/// <c>mlContext.Model.SaveDiffNft</c> (this transformer alone: <see cref="Save(string)"/>).
/// </remarks>
public sealed partial class RarityRewardScorerTransformer : ITransformer, IDisposable
{
    private readonly IHost _host;

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
    public RarityRewardModel Model { get; }

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
        RewardColumns.CheckImage(_host, inputSchema, Options.ImageColumnName);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var (name, type) in OutputColumns(Options, Model.EmbeddingSize)) builder.AddColumn(name, type);
        return builder.ToSchema();
    }

    /// <summary>Adds the reward, rare-probability and embedding columns; the images are scored when this is called.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        RewardColumns.CheckImage(_host, input.Schema, Options.ImageColumnName);
        var images = ColumnReaders.ReadImages(_host, input, Options.ImageColumnName, "image");
        using var ch = _host.Start("ScoreRarityReward");
        ch.Info(MessageSensitivity.None, $"Scoring {images.Count} images with the rarity reward ({Options.RewardKind}).");
        var scores = Model.Predict(images, Options.RewardKind);
        var types = OutputColumns(Options, Model.EmbeddingSize);
        return new AppendedColumnsDataView(input,
            AppendedColumn.Create(types[0].Name, types[0].Type, scores.Rewards),
            AppendedColumn.Create(types[1].Name, types[1].Type, scores.RareProbabilities),
            AppendedColumn.Create(types[2].Name, types[2].Type, new VectorCopies(scores.Embeddings)));
    }

    /// <summary>Not supported: rows are scored in batches.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw _host.Process(new InvalidOperationException("RarityRewardScorerTransformer scores images in batches and is not a row-to-row mapper; call Transform, or RarityRewardModel.Predict for single images."));

    /// <summary>Always throws: use <c>mlContext.Model.SaveDiffNft</c> or <see cref="Save(string)"/>.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw _host.Process(new NotSupportedException(Saving.SavingMessages.UseSaveDiffNft(nameof(RarityRewardScorerTransformer))));

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();

    internal static (string Name, DataViewType Type)[] OutputColumns(RarityRewardScorerOptions options, int embeddingSize) =>
    [
        (options.RewardColumnName, NumberDataViewType.Single),
        (options.RareProbabilityColumnName, NumberDataViewType.Single),
        (options.EmbeddingColumnName, new VectorDataViewType(NumberDataViewType.Single, embeddingSize)),
    ];

    // Hands every reader its own copy of an embedding: ML.NET consumers may reuse (and write into) the buffer they get.
    private sealed class VectorCopies(float[][] vectors) : IReadOnlyList<VBuffer<float>>
    {
        public VBuffer<float> this[int index] => new(vectors[index].Length, (float[])vectors[index].Clone());

        public int Count => vectors.Length;

        public IEnumerator<VBuffer<float>> GetEnumerator()
        {
            for (int i = 0; i < vectors.Length; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
