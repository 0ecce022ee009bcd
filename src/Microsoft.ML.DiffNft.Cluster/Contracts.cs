using Microsoft.ML.DiffNft.FineTuning;
using Orleans.Concurrency;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>Where a job stands.</summary>
[GenerateSerializer]
internal enum JobState
{
    /// <summary>Not started on this activation.</summary>
    Idle,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Finished; its files are written.</summary>
    Done,

    /// <summary>Failed with an error that a retry would repeat (bad input, divergence).</summary>
    Failed,

    /// <summary>Cancelled by its client.</summary>
    Cancelled,
}

/// <summary>
/// A fine-tuning job as every silo sees it: the files (paths every silo can read; the output folder must be shared, as
/// the learner's checkpoint is what a survivor resumes from), the reward and the options. A Stable Diffusion job carries
/// its load options (<see cref="StableDiffusionJson"/>) and writes a folder at <see cref="OutputPath"/>.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed record FineTuneJobSpec(
    [property: Id(0)] string JobId,
    [property: Id(1)] string BaseModelPath,
    [property: Id(2)] string RewardSpecification,
    [property: Id(3)] int RarityOutput,
    [property: Id(4)] double RarityWeight,
    [property: Id(5)] double FidelityWeight,
    [property: Id(6)] string[] Prompts,
    [property: Id(7)] string OptionsJson,
    [property: Id(8)] string OutputPath,
    [property: Id(9)] int MaxStaleness,
    [property: Id(10)] string? StableDiffusionJson = null)
{
    /// <summary>
    /// The job's files, as the single-process command writes them: beside the model file for a package model (OUT,
    /// OUT.ckpt, OUT.log.csv), in the output folder for Stable Diffusion (OUT/lora.safetensors, OUT/finetune.ckpt, OUT/log.csv).
    /// </summary>
    public FineTuneFiles Files => StableDiffusionJson is null ? FineTuneFiles.Beside(OutputPath) : FineTuneFiles.InFolder(OutputPath);

    /// <summary>Whether <paramref name="other"/> is the same job with the same settings (prompts compared by value).</summary>
    public bool Matches(FineTuneJobSpec? other) =>
        other is not null && other with { Prompts = Prompts } == this && other.Prompts.SequenceEqual(Prompts, StringComparer.Ordinal);
}

/// <summary>
/// One chunk of one iteration for one sampler: the snapshot to sample with — version <see cref="Version"/> of the learner
/// activation <see cref="Learner"/> (a learner resumed elsewhere numbers its versions afresh) — and the chunk's plan.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed record SampleRequest(
    [property: Id(0)] FineTuneJobSpec Job,
    [property: Id(1)] int Version,
    [property: Id(2)] int Iteration,
    [property: Id(3)] int Offset,
    [property: Id(4)] string[] Prompts,
    [property: Id(5)] ulong[] Seeds,
    [property: Id(6)] Guid Learner);

/// <summary>A sampled, scored chunk (<c>RolloutWire</c> bytes) and who made it.</summary>
[GenerateSerializer, Immutable]
internal sealed record SampleResult(
    [property: Id(0)] byte[] Chunk,
    [property: Id(1)] int Iteration,
    [property: Id(2)] int Offset,
    [property: Id(3)] int Count,
    [property: Id(4)] int Version,
    [property: Id(5)] string Silo,
    [property: Id(6)] double Seconds,
    [property: Id(7)] long SnapshotBytes);

/// <summary>
/// What a learner reports to the client that polls it: its recent progress lines, numbered from
/// <see cref="FirstLine"/> so a client prints each once however often it polls.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed record FineTuneJobStatus(
    [property: Id(0)] JobState State,
    [property: Id(1)] int Iteration,
    [property: Id(2)] string[] Lines,
    [property: Id(7)] long FirstLine,
    [property: Id(3)] string Silo,
    [property: Id(4)] int ProcessId,
    [property: Id(5)] string? Error,
    [property: Id(6)] ClusterCounters Counters);

/// <summary>
/// Transfer and coordination counters of a learner since its activation. <see cref="CallOverheadSeconds"/> sums, over
/// chunks, the time a chunk's call took as the learner saw it minus the sampler's own work on it: serialisation, the
/// network, the runtime and any snapshot pull.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed record ClusterCounters(
    [property: Id(0)] long SnapshotBytes,
    [property: Id(1)] long ChunkBytes,
    [property: Id(2)] long Trajectories,
    [property: Id(3)] int RetriedChunks,
    [property: Id(4)] int DuplicateChunks,
    [property: Id(5)] double SamplingSeconds,
    [property: Id(6)] double SamplerBusySeconds,
    [property: Id(7)] double UpdateSeconds,
    [property: Id(8)] Dictionary<string, int> ChunksBySilo,
    [property: Id(9)] double CallOverheadSeconds)
{
    public static ClusterCounters Empty => new(0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, int>(), 0);
}

/// <summary>One part of a reward-weight sweep: the base model's evaluation (<see cref="TrialIndex"/> −1) or one trial.</summary>
[GenerateSerializer, Immutable]
internal sealed record SweepPartSpec(
    [property: Id(0)] string BaseModelPath,
    [property: Id(1)] string RewardSpecification,
    [property: Id(2)] int RarityOutput,
    [property: Id(3)] string ReferencePath,
    [property: Id(4)] string OptionsJson,
    [property: Id(5)] int TrialIndex);

/// <summary>Where a sweep part stands on the silo that runs it, with its recent progress lines numbered from <see cref="FirstLine"/>.</summary>
[GenerateSerializer, Immutable]
internal sealed record SweepPartStatus(
    [property: Id(0)] JobState State,
    [property: Id(1)] string[] Lines,
    [property: Id(5)] long FirstLine,
    [property: Id(2)] string Silo,
    [property: Id(3)] int ProcessId,
    [property: Id(4)] string? Error);

/// <summary>
/// The sampler of one job on one silo (key <c>"&lt;silo&gt;/sampler/&lt;job id&gt;"</c>): samples and scores chunks with
/// its own copy of the base model and reward.
/// </summary>
internal interface ISamplerGrain : IGrainWithStringKey
{
    Task<SampleResult> Sample(SampleRequest request);
}

/// <summary>
/// The learner of one job (key: the job id): the optimiser, the versioned weights, the checkpoints. <see cref="Start"/>
/// starts it — or resumes it from its checkpoint, on whichever silo activates it — unless it is running; a client polls
/// <see cref="Status"/> and starts it again when the learner's silo died (a new activation on a survivor) or reports Idle.
/// </summary>
internal interface IFineTuneLearnerGrain : IGrainWithStringKey
{
    Task<FineTuneJobStatus> Start(FineTuneJobSpec spec);

    [AlwaysInterleave]
    Task<FineTuneJobStatus> Status();

    [AlwaysInterleave]
    Task Cancel();

    /// <summary>The trainable weights after <paramref name="version"/> updates, or null when this learner does not hold them.</summary>
    [AlwaysInterleave]
    Task<byte[]?> Snapshot(int version);
}

/// <summary>
/// One sweep part on one silo (key <c>"&lt;silo&gt;/&lt;sweep id&gt;/&lt;part&gt;"</c>): <see cref="Start"/> starts or resumes
/// it from the files in the sweep folder unless it is running; <see cref="Status"/> reports it.
/// </summary>
internal interface ISweepPartGrain : IGrainWithStringKey
{
    Task<SweepPartStatus> Start(SweepPartSpec spec);

    [AlwaysInterleave]
    Task<SweepPartStatus> Status();
}
