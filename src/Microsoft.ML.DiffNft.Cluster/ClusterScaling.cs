namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// What one fine-tuning iteration costs, as the scaling estimate takes it: the work of sampling and of the update per
/// trajectory, the bytes that travel, and the network.
/// </summary>
/// <param name="Trajectories">Trajectories per iteration (B).</param>
/// <param name="ChunkSize">Trajectories per chunk (the unit one sampler takes).</param>
/// <param name="SampleSecondsPerChunk">Sampling and scoring one chunk on one device.</param>
/// <param name="UpdateSecondsPerTrajectory">The learner's PPO update, per trajectory (it trains on all of them, alone).</param>
/// <param name="ChunkBytes">Bytes of one sampled chunk on the wire.</param>
/// <param name="SnapshotBytes">Bytes of one weight snapshot (each sampler pulls it once per version).</param>
/// <param name="BytesPerSecond">Network bandwidth into and out of the learner's machine.</param>
/// <param name="CallSeconds">Fixed cost of one call (latency and the runtime's work).</param>
internal sealed record IterationCost(int Trajectories, int ChunkSize, double SampleSecondsPerChunk, double UpdateSecondsPerTrajectory,
    double ChunkBytes, double SnapshotBytes, double BytesPerSecond, double CallSeconds);

/// <summary>
/// The scaling estimate of docs/scale-out.md: the seconds of one iteration on N samplers, simulated from per-chunk and
/// per-update costs. Chunks are handed out one per sampler at a time (as <see cref="SiloDispatch"/> does); every chunk
/// and every snapshot crosses the learner's link; the update runs on the learner alone, after sampling (staleness 0) or
/// beside the next iteration's sampling (staleness ≥ 1, when it is the longer of the two).
/// </summary>
internal static class ClusterScaling
{
    /// <summary>Seconds per iteration with <paramref name="samplers"/> samplers.</summary>
    public static double IterationSeconds(IterationCost c, int samplers, int staleness)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplers, 1);
        int chunks = (c.Trajectories + c.ChunkSize - 1) / c.ChunkSize;
        int rounds = (chunks + samplers - 1) / samplers;
        // Compute: rounds of one chunk per sampler. The learner's link carries every chunk in and a snapshot out to each
        // sampler; it overlaps with the compute, except for the last round's chunks, which arrive after their sampling.
        // When the link needs longer than the compute, it sets the pace (plus the first chunk, before anything arrives).
        double compute = rounds * (c.SampleSecondsPerChunk + c.CallSeconds);
        double link = (chunks * c.ChunkBytes + Math.Min(samplers, chunks) * c.SnapshotBytes) / c.BytesPerSecond;
        double lastRound = Math.Min(samplers, chunks - (rounds - 1) * samplers) * c.ChunkBytes / c.BytesPerSecond;
        double sampling = Math.Max(compute + lastRound, link + c.SampleSecondsPerChunk);
        double update = c.UpdateSecondsPerTrajectory * c.Trajectories;
        return staleness == 0 ? sampling + update : Math.Max(sampling, update);
    }

    /// <summary>
    /// Seconds per iteration if the update were spread over the samplers too (not built: each would compute the PPO
    /// gradient of its own trajectories, and per optimizer step only the LoRA gradient and the new weights — a snapshot's
    /// bytes each way per sampler — would cross the learner's link): the design this estimate points to.
    /// </summary>
    public static double DataParallelIterationSeconds(IterationCost c, int samplers, int optimizerSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplers, 1);
        var sampling = c with { UpdateSecondsPerTrajectory = 0 };
        // Only samplers that hold trajectories (one chunk each at least) share the update.
        int holders = Math.Min(samplers, (c.Trajectories + c.ChunkSize - 1) / c.ChunkSize);
        double update = c.UpdateSecondsPerTrajectory * c.Trajectories / holders;
        double exchange = holders == 1 ? 0 : optimizerSteps * (2.0 * holders * c.SnapshotBytes / c.BytesPerSecond + c.CallSeconds);
        // Trajectories stay where they were sampled: only their rewards travel.
        return IterationSeconds(sampling with { ChunkBytes = 0 }, samplers, 0) + update + exchange;
    }

    /// <summary>Trajectories per second, and the speed-up over one sampler in the same mode.</summary>
    public static (double TrajectoriesPerSecond, double Speedup) Throughput(IterationCost c, int samplers, int staleness)
    {
        double t = IterationSeconds(c, samplers, staleness);
        return (c.Trajectories / t, IterationSeconds(c, 1, staleness) / t);
    }
}
