using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// The trajectories one iteration samples: prompt and seed of each, in order. The fine-tuner derives it from
/// (Seed, iteration) alone, so any process can rebuild the plan of any iteration.
/// </summary>
/// <param name="Iteration">The iteration (0-based).</param>
/// <param name="Prompts">The prompt of each trajectory.</param>
/// <param name="Seeds">The seed of each trajectory's noise generator.</param>
internal sealed record RolloutPlan(int Iteration, string[] Prompts, ulong[] Seeds)
{
    /// <summary>Trajectories in the plan.</summary>
    public int Count => Prompts.Length;

    /// <summary>
    /// The plan cut into consecutive chunks of <paramref name="size"/> trajectories (0: one chunk): the unit sampled and
    /// scored in one network batch, and the unit a cluster hands to one sampler. The same size gives the same numbers
    /// wherever the chunks run.
    /// </summary>
    public IReadOnlyList<(int Offset, string[] Prompts, ulong[] Seeds)> Chunks(int size)
    {
        if (size < 0) throw new ArgumentOutOfRangeException(nameof(size), size, "Chunk size must be 0 (one chunk) or positive.");
        if (size == 0 || size >= Count) return new[] { (0, Prompts, Seeds) };
        return Enumerable.Range(0, (Count + size - 1) / size)
            .Select(c => (c * size, Prompts.Skip(c * size).Take(size).ToArray(), Seeds.Skip(c * size).Take(size).ToArray()))
            .ToList();
    }
}

/// <summary>
/// Where a PPO iteration's scored trajectories come from: this process (<see cref="LocalRolloutSource"/>) or sampler
/// workers elsewhere. The fine-tuner's update is the same for every source; only sampling moves.
/// </summary>
internal interface IRolloutSource
{
    /// <summary>
    /// How many updates older than the current weights the weights that sampled a returned trajectory may be (0: sampled
    /// with exactly the current weights, as in one process). PPO's importance ratio corrects for the difference.
    /// </summary>
    int MaxStaleness { get; }

    /// <summary>
    /// The scored trajectories of <paramref name="iteration"/>, in the order of its plan. <paramref name="policy"/> holds
    /// the weights after <paramref name="iteration"/> updates; <paramref name="plan"/> gives the plan of any iteration (a
    /// source with staleness samples later iterations ahead).
    /// </summary>
    ScoredRollout Collect(FineTunePolicy policy, IImageReward reward, int iteration, Func<int, RolloutPlan> plan, CancellationToken cancellationToken);
}

/// <summary>Samples every chunk in this process with the policy's own weights: the single-process fine-tuner.</summary>
internal sealed class LocalRolloutSource : IRolloutSource
{
    private readonly FineTuneOptions _options;

    public LocalRolloutSource(FineTuneOptions options) => _options = options ?? throw new ArgumentNullException(nameof(options));

    public int MaxStaleness => 0;

    public ScoredRollout Collect(FineTunePolicy policy, IImageReward reward, int iteration, Func<int, RolloutPlan> plan, CancellationToken cancellationToken)
    {
        var chunks = plan(iteration).Chunks(_options.SamplingBatchSize);
        if (chunks.Count == 1) return ScoredRollout.Sample(policy, reward, chunks[0].Prompts, chunks[0].Seeds, _options, cancellationToken);
        var parts = new List<ScoredRollout>();
        try
        {
            foreach (var (_, prompts, seeds) in chunks)
                parts.Add(ScoredRollout.Sample(policy, reward, prompts, seeds, _options, cancellationToken));
            return ScoredRollout.Concat(parts);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
