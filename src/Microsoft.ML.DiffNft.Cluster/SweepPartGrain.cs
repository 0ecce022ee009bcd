using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Sweeps;
using Orleans.Runtime;

namespace Microsoft.ML.DiffNft.Cluster;

/// <summary>
/// Runs one part of a reward-weight sweep on this silo (<see cref="RewardWeightSweep.RunPart"/>, on a thread of its own):
/// the files it writes in the shared sweep folder — fine-tuning checkpoint after every iteration, then images and
/// metrics — are what another silo resumes from when this one dies.
/// </summary>
[SiloNamePlacement]
internal sealed class SweepPartGrain(ILocalSiloDetails silo) : Grain, ISweepPartGrain
{
    private volatile JobState _state = JobState.Idle;
    private readonly ProgressLines _lines = new();
    private volatile string? _error;

    public Task<SweepPartStatus> Start(SweepPartSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (_state != JobState.Running)
        {
            _error = null;
            _state = JobState.Running;
            DelayDeactivation(TimeSpan.FromDays(30));
            new Thread(() => RunPart(spec)) { IsBackground = true, Name = $"diffnft sweep part {spec.TrialIndex}" }.Start();
        }
        return Status();
    }

    public Task<SweepPartStatus> Status()
    {
        // Collected as usual once the part has ended and its status was read (the thread cannot do this: it is not the grain's).
        if (_state != JobState.Running) DelayDeactivation(TimeSpan.Zero);
        var (first, lines) = _lines.Recent();
        return Task.FromResult(new SweepPartStatus(_state, lines, first, silo.Name, Environment.ProcessId, _error));
    }

    private void RunPart(SweepPartSpec spec)
    {
        try
        {
            var options = OptionsJson.Read<RewardWeightSweepOptions>(spec.OptionsJson, "sweep options") with
            {
                Progress = new SynchronousProgress<SweepProgress>(p => _lines.Add(p.ToString())),
            };
            new RewardWeightSweep(options).RunPart(spec.TrialIndex, spec.BaseModelPath, spec.RewardSpecification, spec.ReferencePath,
                new RewardLoadOptions { RarityOutput = (RarityRewardKind)spec.RarityOutput });
            _state = JobState.Done;
        }
        catch (Exception ex)
        {
            _error = $"{ex.GetType().Name}: {ProgressLines.FirstLine(ex.Message)}";
            _state = JobState.Failed;
        }
    }
}
