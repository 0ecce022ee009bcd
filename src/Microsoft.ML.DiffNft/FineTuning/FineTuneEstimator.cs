using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Fine-tunes a diffusion generator for a reward (rarity, fidelity, or a weighted sum) on the prompts of an
/// <see cref="IDataView"/>, and returns a <see cref="DiffusionGeneratorTransformer"/> of the same kind as the base, with
/// the base's generator options, so everything downstream works unchanged. Created by
/// <c>mlContext.Transforms.DiffNft.FineTune(…)</c>.
/// </summary>
/// <remarks>
/// <see cref="Fit"/> reads the prompts of <see cref="FineTuneOptions.PromptColumnName"/>; the returned generator reads
/// its base's prompt column (<see cref="GeneratorOptions.PromptColumnName"/>). <see cref="GetOutputSchema"/> checks both,
/// as ML.NET's estimators check what <c>Fit</c> and the fitted transformer read. An unset
/// <see cref="FineTuneOptions.Seed"/> is drawn from the context's seed when the estimator is made;
/// <c>MLContext.CancelExecution()</c> stops fine-tuning like <see cref="FineTuneOptions.CancellationToken"/>.
/// </remarks>
public sealed class FineTuneEstimator : IEstimator<DiffusionGeneratorTransformer>
{
    private readonly IHost _host;
    private readonly int _seed;

    internal FineTuneEstimator(IHostEnvironment env, DiffusionGeneratorTransformer baseModel, IImageReward reward, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        _host = env.Register(nameof(FineTuneEstimator));
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
        _seed = ContextSeed.Resolve(Options.Seed, _host);
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
        using var ch = _host.Start("FineTune");
        ch.Info(MessageSensitivity.None, $"Fine-tuning ({Options.Mode}, {(Options.LoraRank > 0 ? $"LoRA rank {Options.LoraRank}" : "full")}) for '{Reward.Name}' on {prompts.Distinct().Count()} prompts, up to {Options.MaxIterations} iterations (seed {_seed}).");
        var userProgress = Options.Progress;
        using var cancel = HostCancellation.Observe(_host, Options.CancellationToken);
        var tuned = new FineTuneJob
        {
            BaseModel = BaseModel.PackageModel,
            Reward = Reward,
            Prompts = prompts,
            Options = Options with { Seed = _seed },
            CancellationToken = cancel.Token,
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
        // What Fit reads, and what the returned generator's Transform reads.
        SchemaShapeChecks.CheckText(_host, inputSchema, Options.PromptColumnName, "prompt");
        SchemaShapeChecks.CheckText(_host, inputSchema, BaseModel.Options.PromptColumnName!, "prompt");
        SchemaShapeChecks.CheckOptionalInteger(_host, inputSchema, BaseModel.Options.SeedColumnName, "seed");
        int size = BaseModel.Model.ImageSize;
        return SchemaShapeOracle.WithColumns(inputSchema, new (string, DataViewType)[] { (BaseModel.Options.ImageColumnName, new ImageDataViewType(size, size)) });
    }
}
