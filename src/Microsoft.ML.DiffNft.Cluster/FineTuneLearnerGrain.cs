using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Reward;
using Orleans.Runtime;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// The learner of one job: runs <see cref="FineTuneJob"/> — the same PPO update, log and checkpoints as in one process —
/// with a <see cref="ClusterRolloutSource"/>, on a thread of its own so the grain keeps answering status and snapshot
/// calls. A new activation (its silo died, or the cluster restarted) resumes from the job's checkpoint, which the
/// fine-tuner reads as it always does: bit for bit the run that was interrupted.
/// </summary>
internal sealed class FineTuneLearnerGrain(IGrainFactory grains, IClusterMembershipService membership, ILocalSiloDetails silo) : Grain, IFineTuneLearnerGrain
{
    private readonly Guid _activation = Guid.NewGuid();
    private CancellationTokenSource? _cancel;
    private FineTuneJobSpec? _spec;
    private ClusterRolloutSource? _source;
    private volatile JobState _state = JobState.Idle;
    private readonly ProgressLines _lines = new();
    private volatile string? _error;
    private int _iteration;

    public Task<FineTuneJobStatus> Start(FineTuneJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.JobId != this.GetPrimaryKeyString())
            throw new ArgumentException($"Job '{spec.JobId}' was sent to the learner of job '{this.GetPrimaryKeyString()}'.", nameof(spec));
        if (_state == JobState.Running && !_spec!.Matches(spec))
            throw new InvalidOperationException($"Job '{spec.JobId}' is already running here with other settings; choose another job id (the output path names it).");
        if (_state != JobState.Running)
        {
            // A first start, or a start after the run ended (done, failed, cancelled): the fine-tuner resumes from the
            // checkpoint, so a finished job only writes its model again.
            _spec = spec;
            _error = null;
            _state = JobState.Running;
            // Not collected while it runs, whether or not a client is polling.
            DelayDeactivation(TimeSpan.FromDays(30));
            _cancel = new CancellationTokenSource();
            var cancel = _cancel.Token;
            var thread = new Thread(() => Learn(spec, cancel)) { IsBackground = true, Name = $"diffnft learner {spec.JobId}" };
            thread.Start();
        }
        return Status();
    }

    public Task<FineTuneJobStatus> Status()
    {
        // Collected as usual once the run has ended and its status was read (the thread cannot do this: it is not the grain's).
        if (_state != JobState.Running) DelayDeactivation(TimeSpan.Zero);
        var (first, lines) = _lines.Recent();
        return Task.FromResult(new FineTuneJobStatus(_state, Volatile.Read(ref _iteration), lines, first, silo.Name, Environment.ProcessId, _error, _source?.Counters ?? ClusterCounters.Empty));
    }

    public Task Cancel()
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    public Task<byte[]?> Snapshot(int version) => Task.FromResult(_source?.Snapshot(version));

    private void Learn(FineTuneJobSpec spec, CancellationToken cancel)
    {
        try
        {
            var files = spec.Files;
            Directory.CreateDirectory(Path.GetDirectoryName(files.Model)!);
            using var fence = AcquireJobLock(files.Model, spec.JobId, cancel);
            using var inputs = JobInputs.Load(spec);
            var options = inputs.Options;
            _source = new ClusterRolloutSource(spec, options, _activation, ActiveSilos,
                // One sampler per job and silo: two jobs on one cluster each keep their models loaded (an idle sampler is
                // collected after Orleans' idle age, 15 minutes by default, and frees them).
                (name, request) => grains.GetGrain<ISamplerGrain>(SiloNamePlacement.Key(name, "sampler/" + spec.JobId)).Sample(request),
                _lines.Add);
            var job = new FineTuneJob
            {
                BaseModel = inputs.Model,
                Reward = inputs.Reward,
                Prompts = spec.Prompts,
                Options = options,
                Files = files,
                Progress = new SynchronousProgress<FineTuneProgress>(p =>
                {
                    Volatile.Write(ref _iteration, p.Iteration);
                    _lines.Add(p.ToString());
                }),
                CancellationToken = cancel,
                Rollouts = _source,
            };
            if (inputs.IsStableDiffusion)
                job.RunDiffusersLora();
            else
                job.Run().Dispose();
            _state = JobState.Done;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            _state = JobState.Cancelled;
        }
        catch (Exception ex)
        {
            _error = $"{ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}";
            _state = JobState.Failed;
        }
    }

    /// <summary>
    /// The job's output lock (the one a single-process run takes): the fence that keeps two learners of one job from
    /// writing its checkpoint at once. Orleans may briefly hold two activations of a grain after a silo dies (the one
    /// whose directory entry was lost, and a new one); the new one waits here until the old one has stopped and released
    /// the lock, then resumes from the checkpoint the old one left.
    /// </summary>
    private IDisposable AcquireJobLock(string output, string jobId, CancellationToken cancel)
    {
        string lockPath = Path.Combine(Path.GetDirectoryName(output)!, OutputFile.LockFileName(output));
        bool told = false;
        while (true)
        {
            try
            {
                return OutputFile.Open(output, $"finetune --cluster (learner on silo {silo.Name})");
            }
            catch (IOException) when (OutputLock.IsHeld(lockPath, out string holder))
            {
                if (!told) _lines.Add($"job {jobId}: waiting for the job's lock, held by another learner of this job ({holder}) until it stops");
                told = true;
                cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                cancel.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>A deactivated learner (its directory entry lost with a dead silo, or the silo stopping) stops at the end of its iteration.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _cancel?.Cancel();
        return Task.CompletedTask;
    }

    private Task<IReadOnlyList<string>> ActiveSilos(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order(StringComparer.Ordinal).ToList());
}
