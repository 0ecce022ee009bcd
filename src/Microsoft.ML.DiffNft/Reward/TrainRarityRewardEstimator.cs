using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// Trains the rarity reward ViT on an <see cref="IDataView"/> with an image column and the columns of
/// <c>ComputeTraitRarity</c> (<c>RarityScore</c>, <c>IsRare</c>; <c>TokenId</c> for the split; optionally the per-trait
/// probabilities, <see cref="RarityRewardTrainerOptions.TraitProbabilitiesColumnName"/>), and returns a
/// <see cref="RarityRewardScorerTransformer"/>. Created by <c>mlContext.Transforms.DiffNft.TrainRarityReward(options)</c>.
/// </summary>
/// <remarks>
/// Progress goes to <c>MLContext.Log</c> (and to <see cref="RarityRewardTrainerOptions.Progress"/>); the seed of the
/// options decides the initial weights, split and batches (unset: drawn from the context's seed when the estimator is
/// made). <c>MLContext.CancelExecution()</c> stops training like <see cref="RarityRewardTrainerOptions.CancellationToken"/>.
/// The validation metrics are in <see cref="RarityRewardScorerTransformer.Metrics"/>. <see cref="GetOutputSchema"/>
/// checks the training columns and the scorer's image column (<see cref="RarityRewardScorerOptions.ImageColumnName"/>,
/// the training image column unless scorer options name another).
/// </remarks>
public sealed class TrainRarityRewardEstimator : IEstimator<RarityRewardScorerTransformer>
{
    private readonly IHost _host;
    private readonly int _seed;

    internal TrainRarityRewardEstimator(IHostEnvironment env, RarityRewardTrainerOptions options, RarityRewardScorerOptions? scorerOptions)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(TrainRarityRewardEstimator));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        // Without scorer options, the scorer reads the column the model was trained on.
        ScorerOptions = scorerOptions ?? new RarityRewardScorerOptions { ImageColumnName = options.ImageColumnName };
        try
        {
            Options.Validate();
            ScorerOptions.Validate();
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
        _seed = ContextSeed.Resolve(Options.Seed, _host);
    }

    /// <summary>The training options.</summary>
    public RarityRewardTrainerOptions Options { get; }

    /// <summary>Settings of the returned scorer (output columns, reward kind).</summary>
    public RarityRewardScorerOptions ScorerOptions { get; }

    /// <inheritdoc/>
    public RarityRewardScorerTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var images = ColumnReaders.ReadImages(_host, input, Options.ImageColumnName, "image");
        var scores = RewardColumns.ReadScores(_host, input, Options.ScoreColumnName);
        var rare = RewardColumns.ReadFlags(_host, input, Options.IsRareColumnName);
        var ids = RewardColumns.ReadOptionalTokenIds(_host, input, Options.TokenIdColumnName);
        var traits = RewardColumns.ReadOptionalVectors(_host, input, Options.TraitProbabilitiesColumnName, "trait probabilities");
        using var ch = _host.Start("TrainRarityReward");
        ch.Info(MessageSensitivity.None, $"Training a {(Options.Vit is null ? Options.Preset.ToString() : "custom")} rarity ViT on {images.Count} images ({rare.Count(r => r)} rare), {Options.ValidationFraction:P0} held out by token{(traits is null ? "" : $", with {traits.FirstOrDefault()?.Length ?? 0} per-trait information targets")}.");
        ch.Info(MessageSensitivity.None, $"Seed {_seed}.");
        var userProgress = Options.Progress;
        using var cancel = HostCancellation.Observe(_host, Options.CancellationToken);
        var bridged = Options with
        {
            Seed = _seed,
            CancellationToken = cancel.Token,
            Progress = new SynchronousProgress<RarityRewardTrainingProgress>(p =>
            {
                string val = p.ValidationLoss is { } v ? $" validation loss {v:F4} spearman {p.ValidationSpearman:F3}" : "";
                ch.Info(MessageSensitivity.None, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4}{val} elapsed {p.Elapsed:hh\\:mm\\:ss}");
                userProgress?.Report(p);
            }),
        };
        RarityRewardModel model;
        try
        {
            model = new RarityRewardTrainer(bridged).Train(images, scores, rare, ids, traits);
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
        var m = model.Metrics!;
        ch.Info(MessageSensitivity.None, $"Validation ({m.NValidation} tokens): spearman {m.Spearman:F3} pearson {m.Pearson:F3} auc {m.Auc:F3} accuracy {m.Accuracy:F3}.");
        return new RarityRewardScorerTransformer(_host, model, ScorerOptions);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        // What Fit reads, and what the scorer's Transform reads.
        RewardColumns.CheckTraining(_host, inputSchema, Options);
        RewardColumns.CheckImage(_host, inputSchema, ScorerOptions.ImageColumnName);
        int dim = (Options.Vit ?? VitOptions.For(Options.Preset)).Dim;
        return SchemaShapeOracle.WithColumns(inputSchema, RarityRewardScorerTransformer.OutputColumns(ScorerOptions, dim));
    }
}
