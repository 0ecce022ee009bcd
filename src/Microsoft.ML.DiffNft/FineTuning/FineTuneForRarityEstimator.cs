using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Fine-tunes a diffusion generator for a reward (rarity, fidelity, or a weighted sum) on the prompts of an
/// <see cref="IDataView"/>, and returns a <see cref="DiffusionGeneratorTransformer"/> of the same kind as the base, with
/// the base's generator options, so everything downstream works unchanged. Created by
/// <c>mlContext.Transforms.DiffNft.FineTuneForRarity(…)</c>.
/// </summary>
public sealed class FineTuneForRarityEstimator : IEstimator<DiffusionGeneratorTransformer>
{
    private readonly IHost _host;

    internal FineTuneForRarityEstimator(IHostEnvironment env, DiffusionGeneratorTransformer baseModel, IImageReward reward, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(FineTuneForRarityEstimator));
        BaseModel = baseModel ?? throw _host.Process(new ArgumentNullException(nameof(baseModel), "A base diffusion generator is required."));
        Reward = reward ?? throw _host.Process(new ArgumentNullException(nameof(reward), "A reward is required."));
        Options = options ?? throw _host.Process(new ArgumentNullException(nameof(options), "Options are required."));
        try
        {
            Options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw _host.Process(ex);
        }
    }

    /// <summary>The generator whose model is fine-tuned (left unchanged).</summary>
    public DiffusionGeneratorTransformer BaseModel { get; }

    /// <summary>The reward to maximise.</summary>
    public IImageReward Reward { get; }

    /// <summary>The fine-tuning options.</summary>
    public FineTuneOptions Options { get; }

    /// <summary>Reads the prompts and fine-tunes; returns a generator over the tuned model (LoRA merged into the weights).</summary>
    public DiffusionGeneratorTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var prompts = ColumnReaders.ReadText(_host, input, Options.PromptColumnName, "prompt");
        if (prompts.Count == 0)
            throw _host.Process(new ArgumentException($"The prompt column '{Options.PromptColumnName}' has no rows; fine-tuning needs at least one prompt.", nameof(input)));
        using var ch = _host.Start("FineTuneForRarity");
        ch.Info(MessageSensitivity.None, $"Fine-tuning ({Options.Mode}, {(Options.LoraRank > 0 ? $"LoRA rank {Options.LoraRank}" : "full")}) for '{Reward.Name}' on {prompts.Distinct().Count()} prompts, up to {Options.MaxIterations} iterations.");
        var userProgress = Options.Progress;
        var tuned = new FineTuneJob
        {
            BaseModel = BaseModel.Model,
            Reward = Reward,
            Prompts = prompts,
            Options = Options,
            Progress = new SynchronousProgress<FineTuneProgress>(p =>
            {
                ch.Info(MessageSensitivity.None, p.ToString());
                userProgress?.Report(p);
            }),
        }.Run();
        return new DiffusionGeneratorTransformer(_host, tuned, BaseModel.Options);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        string name = BaseModel.Options.PromptColumnName;
        var prompt = inputSchema.FirstOrDefault(c => c.Name == name);
        if (prompt.Name is null)
            throw _host.Process(new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find prompt column '{name}'"));
        if (prompt.ItemType is not TextDataViewType || prompt.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw _host.Process(new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for prompt column '{name}': expected String, got {prompt.ItemType}"));
        int size = BaseModel.Model.Options.UNet.ImageSize;
        return SchemaShapeOracle.WithColumns(inputSchema, new (string, DataViewType)[] { (BaseModel.Options.ImageColumnName, new ImageDataViewType(size, size)) });
    }
}
