using System.Diagnostics;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// The sampler of one job on one silo: keeps the job's base model, reward and policy loaded, pulls the learner's snapshot when the
/// requested version differs from the one it holds, and samples and scores chunks with
/// <see cref="ScoredRollout.Sample"/> — the code the single-process fine-tuner runs. One chunk of a job at a time per silo
/// (a grain runs one call at a time); the work runs off the Orleans scheduler so the silo keeps answering probes.
/// </summary>
[SiloNamePlacement]
internal sealed class SamplerGrain(IGrainFactory grains, ILocalSiloDetails silo, ILogger<SamplerGrain> log) : Grain, ISamplerGrain
{
    private SamplerJob? _job;

    public async Task<SampleResult> Sample(SampleRequest request)
    {
        var job = _job;
        if (job is null || !job.Spec.Matches(request.Job))
        {
            _job = null;
            job?.Dispose();
            job = await Task.Run(() => SamplerJob.Load(request.Job));
            _job = job;
        }
        long snapshotBytes = 0;
        if (job.Learner != request.Learner || job.Version != request.Version)
        {
            var bytes = await grains.GetGrain<IFineTuneLearnerGrain>(request.Job.JobId).Snapshot(request.Version)
                ?? throw new SiloUnavailableException($"The learner of job '{request.Job.JobId}' no longer holds snapshot {request.Version} (it restarted or moved on).");
            await Task.Run(() => RolloutWire.ReadSnapshot(bytes, $"job '{request.Job.JobId}', snapshot {request.Version}", job.Policy));
            (job.Learner, job.Version) = (request.Learner, request.Version);
            snapshotBytes = bytes.Length;
        }
        var clock = Stopwatch.StartNew();
        string what = $"job {request.Job.JobId}, iteration {request.Iteration + 1}, trajectories {request.Offset}…{request.Offset + request.Prompts.Length - 1}";
        log.LogInformation("sampling {What} (snapshot {Version})", what, request.Version);
        byte[] chunk = await Task.Run(() =>
        {
            TorchRuntime.FitThreadsToLoad();
            using var scored = ScoredRollout.Sample(job.Policy, job.Reward, request.Prompts, request.Seeds, job.Options, CancellationToken.None);
            return RolloutWire.WriteChunk(scored);
        });
        log.LogInformation("sampled {What} in {Seconds:F2} s", what, clock.Elapsed.TotalSeconds);
        return new SampleResult(chunk, request.Iteration, request.Offset, request.Prompts.Length, request.Version, silo.Name, clock.Elapsed.TotalSeconds, snapshotBytes);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _job?.Dispose();
        _job = null;
        return Task.CompletedTask;
    }

    /// <summary>A job's models on this silo (<see cref="JobInputs"/>) and its policy.</summary>
    private sealed class SamplerJob : IDisposable
    {
        private readonly JobInputs _inputs;

        private SamplerJob(FineTuneJobSpec spec, JobInputs inputs, FineTunePolicy policy)
        {
            Spec = spec;
            _inputs = inputs;
            Policy = policy;
        }

        public FineTuneJobSpec Spec { get; }

        public FineTuneOptions Options => _inputs.Options;

        public IImageReward Reward => _inputs.Reward;

        public FineTunePolicy Policy { get; }

        public Guid Learner { get; set; }

        public int Version { get; set; } = -1;

        public static SamplerJob Load(FineTuneJobSpec spec)
        {
            var inputs = JobInputs.Load(spec);
            try
            {
                return new SamplerJob(spec, inputs, FineTunePolicy.Create(inputs.Model, inputs.Options));
            }
            catch
            {
                inputs.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Policy.Dispose();
            _inputs.Dispose();
        }
    }
}
