using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Everything about a fine-tuning run that is not a tensor, as saved in a checkpoint.</summary>
/// <param name="Iteration">Iterations completed.</param>
/// <param name="Beta">The current KL weight (it changes when adaptive).</param>
/// <param name="RewardQueries">Images scored so far.</param>
/// <param name="Tracker">The running per-prompt reward buffers.</param>
/// <param name="LogRows">The CSV log rows so far.</param>
/// <param name="Seconds">Training time up to this checkpoint, interrupted runs included (0 in checkpoints of older builds):
/// a resumed run's <see cref="FineTuneOptions.MaxTime"/> counts it, and not the work an interruption lost.</param>
/// <param name="RewardScale">σ₀, the standard deviation of the first iteration's training signal (null before it, and
/// in runs without the advantage floor or crowding).</param>
/// <param name="CrowdingBandwidth">The crowding penalty's bandwidth (null before the first iteration or without it).</param>
/// <param name="CrowdingMemory">The crowding penalty's remembered samples, oldest iteration first.</param>
internal sealed record FineTuneState(int Iteration, double Beta, long RewardQueries, Dictionary<string, double[]> Tracker, List<string> LogRows,
    double Seconds = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? RewardScale = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? CrowdingBandwidth = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] List<float[][]>? CrowdingMemory = null);

/// <summary>
/// What a checkpoint must match to be resumed: the settings that shape the trajectory of the run (not the budget, paths or
/// progress sinks), the base model's weights, the prompt list and the reward. A resumed run with all of these equal
/// continues bit for bit: every random draw of iteration i comes from generators seeded by (Seed, i) alone.
/// </summary>
internal sealed record FineTuneFingerprint(
    FineTuneMode Mode, int PromptsPerIteration, int ImagesPerPrompt, int SamplingSteps, double Eta, double GuidanceScale,
    double ClipRange, double AdvantageClip, RewardComponentScaling ComponentScaling, AdvantageNormalization Advantages, int StatBufferSize, int StatMinCount,
    int InnerEpochs, double TimestepFraction, int ExcludedFinalSteps, int TrainBatchSize, int GradientAccumulationSteps, double GradientClipNorm,
    double LearningRate, double WeightDecay, double KlWeight, double? KlTarget, int LoraRank, double LoraAlpha,
    LoraTargets LoraTargets, int BackpropSteps, int BackpropDetachedFinalSteps, int BackpropRewardSamples, int BackpropRewardShift, double BackpropRewardNoise, int Seed, string Reward, string BaseModelSha256, string PromptsSha256,
    // Written only when set, so checkpoints of runs that sample in one batch (and of builds before the option) match.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int SamplingBatchSize = 0,
    // The same for the guards against collapse: a run with all of them off matches checkpoints of builds before them.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double AdvantageStdFloor = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double CrowdingWeight = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int CrowdingWindow = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] double CrowdingBandwidth = 0)
{
    public static FineTuneFingerprint From(FineTuneOptions o, string reward, string baseModelSha256, string promptsSha256) => new(
        o.Mode, o.PromptsPerIteration, o.ImagesPerPrompt, o.SamplingSteps, o.Eta, o.GuidanceScale, o.ClipRange, o.AdvantageClip,
        o.ComponentScaling, o.Advantages, o.StatBufferSize, o.StatMinCount, o.InnerEpochs, o.TimestepFraction, o.ExcludedFinalSteps, o.TrainBatchSize,
        o.GradientAccumulationSteps, o.GradientClipNorm, o.LearningRate, o.WeightDecay, o.KlWeight, o.KlTarget, o.LoraRank,
        o.LoraRank > 0 ? o.EffectiveLoraAlpha : 0, o.LoraRank > 0 ? o.LoraTargets : LoraTargets.None, o.EffectiveBackpropSteps, o.BackpropDetachedFinalSteps, o.BackpropRewardSamples, o.BackpropRewardShift, o.BackpropRewardNoise, o.EffectiveSeed,
        reward, baseModelSha256, promptsSha256, o.Mode == FineTuneMode.Ppo ? o.SamplingBatchSize : 0,
        o.Mode == FineTuneMode.Ppo ? o.AdvantageStdFloor : 0, o.UsesCrowding ? o.CrowdingWeight : 0,
        o.UsesCrowding ? o.CrowdingWindow : 0, o.UsesCrowding ? o.CrowdingBandwidth : 0);
}

/// <summary>
/// Saves and restores a fine-tuning run atomically in one archive: the trainable tensors (LoRA factors or all weights),
/// the AdamW moments and step, the KL weight, the per-prompt statistics, the reward-query count, the log rows and the
/// iteration. There is no generator state to save: each iteration's generators are seeded from (Seed, iteration).
/// </summary>
internal static class FineTuneCheckpoint
{
    public const string FormatName = "diffnft.finetune-checkpoint";
    public const int FormatVersion = 1;
    private const string ManifestEntry = "checkpoint.json";
    private const string StateEntry = "state.safetensors";

    public static void Save(string path, FineTuneFingerprint fingerprint, FineTuneState state, FineTunePolicy policy, AdamW adam)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in policy.TrainableParameters) tensors["policy." + name] = p;
        var adamState = adam.StateDict();
        try
        {
            foreach (var (k, v) in adamState) tensors[k] = v;
            var manifest = new Manifest(FormatName, FormatVersion, fingerprint, state);
            ModelArchive.Write(path, new Dictionary<string, byte[]>
            {
                [ManifestEntry] = JsonSerializer.SerializeToUtf8Bytes(manifest, DiffusionModel.JsonOptions),
                [StateEntry] = ModelArchive.SaveTensors(tensors),
            });
        }
        finally
        {
            foreach (var v in adamState.Values) v.Dispose();
        }
    }

    /// <summary>Restores a checkpoint into <paramref name="policy"/> and <paramref name="adam"/>; returns the run state.</summary>
    public static FineTuneState Load(string path, FineTuneFingerprint expected, FineTunePolicy policy, AdamW adam)
    {
        var entries = ModelArchive.Read(path);
        Manifest? m;
        try
        {
            m = JsonSerializer.Deserialize<Manifest>(ModelArchive.Require(entries, ManifestEntry, path), DiffusionModel.JsonOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"Checkpoint '{path}': {ManifestEntry} is not valid ({ex.Message}).", ex);
        }
        if (m is null || m.Format != FormatName || m.Version != FormatVersion || m.Fingerprint is null || m.State is null)
            throw new InvalidDataException($"'{path}' is not a version-{FormatVersion} DiffNft fine-tuning checkpoint (format '{m?.Format}', version {m?.Version}).");
        var differences = Differences(expected, m.Fingerprint);
        if (differences.Count > 0)
            throw new InvalidOperationException($"Checkpoint '{path}' belongs to a different run ({string.Join(", ", differences)} differ); delete it to start afresh or restore the settings.");
        if (m.State.Iteration < 0 || m.State.Tracker is null || m.State.LogRows is null || !double.IsFinite(m.State.Beta)
            || !double.IsFinite(m.State.Seconds) || m.State.Seconds < 0 || m.State.RewardScale is { } s && !(s >= 0 && double.IsFinite(s)))
            throw new InvalidDataException($"Checkpoint '{path}': the run state is incomplete or invalid.");

        var state = ModelArchive.LoadTensors(entries, StateEntry, path);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, p) in policy.TrainableParameters)
            {
                if (!state.TryGetValue("policy." + name, out var src))
                    throw new InvalidDataException($"Checkpoint '{path}' has no tensor 'policy.{name}'.");
                if (!src.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"Checkpoint '{path}': tensor 'policy.{name}' has shape [{string.Join(",", src.shape)}], expected [{string.Join(",", p.shape)}].");
                p.copy_(src);
            }
            adam.LoadStateDict(state, path);
        }
        finally
        {
            foreach (var v in state.Values) v.Dispose();
        }
        return m.State;
    }

    /// <summary>Names of the fingerprint fields whose saved value differs from the expected one.</summary>
    internal static List<string> Differences(FineTuneFingerprint expected, FineTuneFingerprint saved)
    {
        var a = JsonSerializer.SerializeToElement(expected, DiffusionModel.JsonOptions);
        var b = JsonSerializer.SerializeToElement(saved, DiffusionModel.JsonOptions);
        var result = new List<string>();
        foreach (var prop in a.EnumerateObject())
        {
            if (!b.TryGetProperty(prop.Name, out var other) || other.GetRawText() != prop.Value.GetRawText())
                result.Add(prop.Name);
        }
        // A field written only when set (SamplingBatchSize) differs when the saved run set it and this one does not.
        foreach (var prop in b.EnumerateObject())
            if (!a.TryGetProperty(prop.Name, out _)) result.Add(prop.Name);
        return result;
    }

    private sealed record Manifest(string Format, int Version, FineTuneFingerprint Fingerprint, FineTuneState State);
}
