using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Sweeps;
using Orleans.Runtime;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// Submits work to a DiffNft cluster and follows it: fine-tuning jobs (<see cref="FineTuneAsync"/>) and reward-weight
/// sweeps (<see cref="SweepAsync"/>). Both survive the death of any silo — the work moves to the others and resumes from
/// its files — and a client that is stopped and run again with the same output continues the same work.
/// </summary>
public sealed class DiffNftClusterClient : IAsyncDisposable
{
    private readonly IHost _host;

    private DiffNftClusterClient(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    internal IClusterClient Client { get; }

    /// <summary>How often the client asks a job for its status.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the client keeps trying when no silo answers for a job before it gives up.</summary>
    public TimeSpan Patience { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Connects to the cluster (a silo's gateway must be up), giving up after <paramref name="timeout"/> (default 30 s).</summary>
    /// <exception cref="InvalidOperationException">No silo could be reached; the message names the membership and the gateways.</exception>
    public static async Task<DiffNftClusterClient> ConnectAsync(DiffNftClusterOptions options, CancellationToken cancellationToken = default, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // The client reports its own failures, in one line: the runtime's and the host's logs stay quiet.
        ClusterHosting.ConfigureLogging(builder.Logging, LogLevel.None);
        builder.UseOrleansClient(client => ClusterHosting.ConfigureClient(client, options));
        var host = builder.Build();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        string where = options.Redis is { } r ? $"Redis {r}" : $"localhost gateway port(s) {string.Join(",", options.Gateways ?? new[] { options.GatewayPort })}";
        try
        {
            await host.StartAsync(deadline.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            string why = ex is OperationCanceledException ? $"no silo answered within {limit.TotalSeconds:F0} s" : ProgressLines.FirstLine(ex.Message).TrimEnd('.');
            throw new InvalidOperationException($"Could not connect to the cluster '{options.ClusterId}' ({where}): {why}. Is a silo of that cluster running (diffnft silo), with the same --cluster-id?", ex);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new DiffNftClusterClient(host);
    }

    /// <summary>The names of the cluster's active silos.</summary>
    public async Task<IReadOnlyList<string>> ActiveSilosAsync(CancellationToken cancellationToken = default)
    {
        var hosts = await Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(cancellationToken);
        return hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloName).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Runs a fine-tuning job on the cluster and returns when its model is written. Progress lines (iterations, retried
    /// chunks, a learner resumed elsewhere) go to <paramref name="progress"/>; cancelling stops the job at the end of its
    /// iteration with a checkpoint, and submitting the same job again resumes it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The job failed; the message is the learner's.</exception>
    public async Task<ClusterFineTuneResult> FineTuneAsync(ClusterFineTuneJob job, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var spec = job.ToSpec();
        var learner = Client.GetGrain<IFineTuneLearnerGrain>(spec.JobId);
        var status = await Retry(() => learner.Start(spec), "start the learner", progress, CancellationToken.None);
        progress?.Report($"job {spec.JobId}: learner on silo {status.Silo} (process {status.ProcessId})");
        long printed = 0;
        bool cancelSent = false;
        var lastContact = DateTime.UtcNow;
        while (true)
        {
            if (cancellationToken.IsCancellationRequested && !cancelSent)
            {
                progress?.Report("cancelling: the learner stops after its iteration and saves a checkpoint");
                try
                {
                    await learner.Cancel();
                    cancelSent = true;
                }
                catch (Exception ex) when (SiloDispatch.IsTransient(ex, cancellationToken))
                {
                }
            }
            await Task.Delay(PollInterval, CancellationToken.None);
            try
            {
                var previous = status;
                status = await learner.Status();
                lastContact = DateTime.UtcNow;
                if (status.State == JobState.Idle)
                {
                    // A new activation: the learner's silo died (or the learner was collected). Start it again: it resumes
                    // from the job's checkpoint on this silo.
                    if (cancelSent) throw new OperationCanceledException("The fine-tuning job was cancelled.", cancellationToken);
                    status = await learner.Start(spec);
                    // Its lines are numbered afresh.
                    printed = 0;
                    progress?.Report($"job {spec.JobId}: learner resumed on silo {status.Silo} (process {status.ProcessId}) from its last checkpoint (was on {previous.Silo})");
                }
            }
            catch (Exception ex) when (SiloDispatch.IsTransient(ex, cancellationToken))
            {
                if (DateTime.UtcNow - lastContact > Patience)
                    throw new InvalidOperationException($"The learner of job {spec.JobId} has not answered for {Patience.TotalSeconds:F0} s ({ex.Message}).", ex);
                progress?.Report($"job {spec.JobId}: learner unreachable ({ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}); waiting for the cluster to move it");
                continue;
            }
            printed = ProgressLines.ReportNew(status.Lines, status.FirstLine, printed, line => progress?.Report(line));
            switch (status.State)
            {
                case JobState.Done:
                    return new ClusterFineTuneResult(Path.GetFullPath(job.OutputPath), status.Iteration, status.Counters.Trajectories,
                        status.Counters.SnapshotBytes, status.Counters.ChunkBytes, status.Counters.RetriedChunks, status.Counters.DuplicateChunks,
                        status.Counters.SamplingSeconds, status.Counters.SamplerBusySeconds, status.Counters.UpdateSeconds,
                        status.Counters.CallOverheadSeconds, status.Counters.ChunksBySilo, status.Silo, status.ProcessId);
                case JobState.Failed:
                    throw new InvalidOperationException($"Fine-tuning job {spec.JobId} failed on silo {status.Silo}: {status.Error}");
                case JobState.Cancelled:
                    throw new OperationCanceledException($"Fine-tuning job {spec.JobId} was cancelled; its checkpoint is {job.OutputPath}.ckpt.", cancellationToken);
            }
        }
    }

    /// <summary>
    /// Runs a reward-weight sweep with its trials (and the base model's evaluation) spread over the active silos, one
    /// part per silo at a time; a part whose silo dies resumes on another from its files. When every part is done, the
    /// tables and the report are written here, exactly as <see cref="RewardWeightSweep"/> writes them.
    /// </summary>
    public async Task<SweepResult> SweepAsync(RewardWeightSweepOptions options, string baseModelPath, string rarityReward, string referencePath,
        RarityRewardKind rarityOutput = RarityRewardKind.ZScore, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(baseModelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(rarityReward);
        ArgumentException.ThrowIfNullOrWhiteSpace(referencePath);
        var sweep = new RewardWeightSweep(options);
        string root = Path.GetFullPath(options.OutputDirectory);
        string sweepId = "sweep-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(root)))[..16].ToLowerInvariant();
        string json = OptionsJson.Write(options with { OutputDirectory = root });
        string reward = rarityReward.StartsWith(RewardLoader.BuiltinPrefix, StringComparison.Ordinal) ? rarityReward : Path.GetFullPath(rarityReward);
        var parts = (options.EvaluateBase ? new[] { -1 } : Array.Empty<int>()).Concat(Enumerable.Range(0, sweep.Trials.Count)).ToList();
        string Name(int part) => part < 0 ? "base" : sweep.Trials[part].Id;
        var outcome = await SiloDispatch.RunAll(parts, ActiveSilosAsync,
            (silo, part, ct) => RunPart(silo, $"{sweepId}/{Name(part)}",
                new SweepPartSpec(Path.GetFullPath(baseModelPath), reward, (int)rarityOutput, Path.GetFullPath(referencePath), json, part), Name(part), progress, ct),
            (silo, part, ex) => progress?.Report($"{Name(parts[part])}: silo {silo} failed ({ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}); resuming the part on another silo"),
            Patience, cancellationToken);
        progress?.Report($"all {parts.Count} parts done ({string.Join(", ", parts.Select((p, i) => $"{Name(p)} on {outcome.SiloOfItem[i]}"))}; {outcome.Retries} moved); writing the tables and the report");
        return sweep.Run(Path.GetFullPath(baseModelPath), reward, Path.GetFullPath(referencePath), new RewardLoadOptions { RarityOutput = rarityOutput });
    }

    private async Task<bool> RunPart(string silo, string key, SweepPartSpec spec, string name, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var grain = Client.GetGrain<ISweepPartGrain>(SiloNamePlacement.Key(silo, key));
        var status = await grain.Start(spec);
        progress?.Report($"{name}: running on silo {silo} (process {status.ProcessId})");
        long printed = 0;
        var lastContact = DateTime.UtcNow;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Delay(PollInterval, cancellationToken);
            try
            {
                status = await grain.Status();
                lastContact = DateTime.UtcNow;
            }
            catch (Exception ex) when (SiloDispatch.IsTransient(ex, cancellationToken))
            {
                // Move the part only when its silo has left the cluster: a slow answer from a live silo must not start a
                // second copy of the part writing the same files.
                if (!(await ActiveSilosAsync(cancellationToken)).Contains(silo) || DateTime.UtcNow - lastContact > Patience) throw;
                continue;
            }
            printed = ProgressLines.ReportNew(status.Lines, status.FirstLine, printed, line => progress?.Report($"{name} on {silo}: {line}"));
            switch (status.State)
            {
                case JobState.Done:
                    return true;
                case JobState.Failed:
                    throw new InvalidOperationException($"Sweep part {name} failed on silo {silo}: {status.Error}");
                case JobState.Idle:
                    // The silo restarted under the same name: start the part again (it resumes from its files; its lines
                    // are numbered afresh).
                    status = await grain.Start(spec);
                    printed = 0;
                    break;
            }
        }
    }

    private static async Task<T> Retry<T>(Func<Task<T>> call, string what, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var start = DateTime.UtcNow;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (SiloDispatch.IsTransient(ex, cancellationToken) && DateTime.UtcNow - start < TimeSpan.FromMinutes(2))
            {
                progress?.Report($"could not {what} ({ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}); retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _host.Dispose();
        }
    }
}

/// <summary>What a cluster fine-tuning job did: its model, iterations, and the transfers and times of its learner's last activation.</summary>
/// <param name="ModelPath">The tuned model file.</param>
/// <param name="Iterations">Iterations completed.</param>
/// <param name="Trajectories">Trajectories the learner accepted (each once).</param>
/// <param name="SnapshotBytes">Weight snapshot bytes the samplers pulled.</param>
/// <param name="ChunkBytes">Trajectory bytes the samplers sent.</param>
/// <param name="RetriedChunks">Chunks handed to another silo after theirs failed.</param>
/// <param name="DuplicateChunks">Results dropped because their chunk was already done.</param>
/// <param name="SamplingSeconds">Time the learner waited for trajectories.</param>
/// <param name="SamplerSeconds">Time the samplers spent sampling and scoring, summed over silos.</param>
/// <param name="UpdateSeconds">Time the learner spent updating.</param>
/// <param name="CallOverheadSeconds">Over all chunks, each call's time as the learner saw it minus the sampler's work: serialisation, network, runtime, snapshot pulls.</param>
/// <param name="ChunksBySilo">Chunks each silo sampled.</param>
/// <param name="LearnerSilo">The silo the learner finished on.</param>
/// <param name="LearnerProcessId">Its process id.</param>
public sealed record ClusterFineTuneResult(string ModelPath, int Iterations, long Trajectories, long SnapshotBytes, long ChunkBytes,
    int RetriedChunks, int DuplicateChunks, double SamplingSeconds, double SamplerSeconds, double UpdateSeconds, double CallOverheadSeconds,
    IReadOnlyDictionary<string, int> ChunksBySilo, string LearnerSilo, int LearnerProcessId);
