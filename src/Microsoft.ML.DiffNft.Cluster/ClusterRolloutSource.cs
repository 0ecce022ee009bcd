using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// The learner's side of the split: publishes the weights after each update as a numbered snapshot, hands each
/// iteration's chunks to the samplers of the live silos (<see cref="SiloDispatch"/>: a chunk whose silo dies runs
/// elsewhere, a duplicate result is dropped), and returns the chunks in plan order. With a staleness bound s it keeps the
/// next s iterations sampling, with the newest weights at the time they were handed out, while the learner updates.
/// </summary>
internal sealed class ClusterRolloutSource : IRolloutSource
{
    private readonly FineTuneJobSpec _spec;
    private readonly FineTuneOptions _options;
    private readonly Guid _learner;
    private readonly Func<CancellationToken, Task<IReadOnlyList<string>>> _silos;
    private readonly Func<string, SampleRequest, Task<SampleResult>> _sample;
    private readonly Action<string> _log;
    private readonly ConcurrentDictionary<int, byte[]> _snapshots = new();
    private readonly Dictionary<int, Task<SiloDispatch.Outcome<TimedResult>>> _inFlight = new();
    private readonly Stopwatch _sinceCollect = new();
    private readonly object _gate = new();
    private ClusterCounters _counters = ClusterCounters.Empty;

    /// <param name="spec">The job.</param>
    /// <param name="options">Its fine-tuning options (SamplingBatchSize must be positive: the chunk is the unit of work).</param>
    /// <param name="learner">This learner activation: snapshots are numbered within it.</param>
    /// <param name="silos">The silos whose samplers to use now.</param>
    /// <param name="sample">Sends one request to the sampler of one silo.</param>
    /// <param name="log">Told of retried chunks.</param>
    public ClusterRolloutSource(FineTuneJobSpec spec, FineTuneOptions options, Guid learner,
        Func<CancellationToken, Task<IReadOnlyList<string>>> silos, Func<string, SampleRequest, Task<SampleResult>> sample, Action<string> log)
    {
        if (options.SamplingBatchSize < 1)
            throw new ArgumentException("A cluster hands out chunks of SamplingBatchSize trajectories: set it to a positive number (the same in a single-process run gives the same numbers).", nameof(options));
        if (spec.MaxStaleness < 0) throw new ArgumentOutOfRangeException(nameof(spec), spec.MaxStaleness, "The staleness bound must be non-negative.");
        _spec = spec;
        _options = options;
        _learner = learner;
        _silos = silos;
        _sample = sample;
        _log = log;
    }

    public int MaxStaleness => _spec.MaxStaleness;

    /// <summary>How long a chunk may find no live silo before the iteration fails.</summary>
    public TimeSpan Patience { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Transfers and times so far.</summary>
    public ClusterCounters Counters
    {
        get
        {
            lock (_gate) return _counters;
        }
    }

    /// <summary>The snapshot of version <paramref name="version"/>, while it may still be asked for.</summary>
    public byte[]? Snapshot(int version) => _snapshots.TryGetValue(version, out var bytes) ? bytes : null;

    public ScoredRollout Collect(FineTunePolicy policy, IImageReward reward, int iteration, Func<int, RolloutPlan> plan, CancellationToken cancellationToken)
    {
        double update = _sinceCollect.IsRunning ? _sinceCollect.Elapsed.TotalSeconds : 0;
        var clock = Stopwatch.StartNew();
        // Version v = the weights after v updates; samplers ask for it by number (and this learner's id) when theirs differs.
        _snapshots[iteration] = RolloutWire.WriteSnapshot(policy);
        foreach (int old in _snapshots.Keys.Where(v => v < iteration - MaxStaleness).ToList()) _snapshots.TryRemove(old, out _);
        for (int k = iteration; k <= iteration + MaxStaleness && k < _options.MaxIterations; k++)
            if (!_inFlight.ContainsKey(k))
                _inFlight[k] = Dispatch(plan(k), iteration, cancellationToken);
        var task = _inFlight[iteration];
        _inFlight.Remove(iteration);
        var outcome = task.GetAwaiter().GetResult();
        var expected = plan(iteration);
        var parts = new List<ScoredRollout>();
        try
        {
            var chunks = expected.Chunks(_options.SamplingBatchSize);
            for (int c = 0; c < chunks.Count; c++)
            {
                var r = outcome.Results[c].Result;
                // Every trajectory is counted once: chunk c must be exactly trajectories offset … offset + count − 1 of this iteration.
                if (r.Iteration != iteration || r.Offset != chunks[c].Offset || r.Count != chunks[c].Prompts.Length)
                    throw new InvalidDataException($"Sampler {r.Silo} returned trajectories {r.Offset}…{r.Offset + r.Count - 1} of iteration {r.Iteration + 1} for trajectories {chunks[c].Offset}…{chunks[c].Offset + chunks[c].Prompts.Length - 1} of iteration {iteration + 1}.");
                parts.Add(RolloutWire.ReadChunk(r.Chunk, $"sampler {r.Silo}, iteration {iteration + 1}, trajectories {r.Offset}…{r.Offset + r.Count - 1}", policy.Model, chunks[c].Prompts));
            }
            var scored = parts.Count == 1 ? parts[0] : ScoredRollout.Concat(parts);
            lock (_gate)
            {
                var bySilo = new Dictionary<string, int>(_counters.ChunksBySilo, StringComparer.Ordinal);
                foreach (var (r, _) in outcome.Results) bySilo[r.Silo] = bySilo.GetValueOrDefault(r.Silo) + 1;
                _counters = _counters with
                {
                    SnapshotBytes = _counters.SnapshotBytes + outcome.Results.Sum(r => r.Result.SnapshotBytes),
                    ChunkBytes = _counters.ChunkBytes + outcome.Results.Sum(r => (long)r.Result.Chunk.Length),
                    Trajectories = _counters.Trajectories + outcome.Results.Sum(r => r.Result.Count),
                    RetriedChunks = _counters.RetriedChunks + outcome.Retries,
                    DuplicateChunks = _counters.DuplicateChunks + outcome.Duplicates,
                    SamplingSeconds = _counters.SamplingSeconds + clock.Elapsed.TotalSeconds,
                    SamplerBusySeconds = _counters.SamplerBusySeconds + outcome.Results.Sum(r => r.Result.Seconds),
                    UpdateSeconds = _counters.UpdateSeconds + update,
                    ChunksBySilo = bySilo,
                    CallOverheadSeconds = _counters.CallOverheadSeconds + outcome.Results.Sum(r => r.CallSeconds - r.Result.Seconds),
                };
            }
            _sinceCollect.Restart();
            if (parts.Count == 1) parts.Clear();
            return scored;
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    private readonly record struct TimedResult(SampleResult Result, double CallSeconds);

    private Task<SiloDispatch.Outcome<TimedResult>> Dispatch(RolloutPlan plan, int version, CancellationToken cancellationToken)
    {
        var chunks = plan.Chunks(_options.SamplingBatchSize);
        return SiloDispatch.RunAll(chunks, _silos,
            async (silo, chunk, _) =>
            {
                var call = Stopwatch.StartNew();
                var result = await _sample(silo, new SampleRequest(_spec, version, plan.Iteration, chunk.Offset, chunk.Prompts, chunk.Seeds, _learner));
                return new TimedResult(result, call.Elapsed.TotalSeconds);
            },
            (silo, chunk, ex) => _log($"iteration {plan.Iteration + 1}: chunk {chunk + 1}/{chunks.Count} failed on silo {silo} ({ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}); handing it to another silo"),
            Patience, cancellationToken);
    }
}
