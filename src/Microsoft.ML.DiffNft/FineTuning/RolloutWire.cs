using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// What travels between a learner and its samplers, as safetensors bytes: a scored chunk of trajectories (states,
/// log-probabilities, σ, timesteps and rewards; the prompts and seeds are the learner's own plan and do not travel) and
/// a snapshot of the trainable weights. Reading checks names, shapes and finiteness like every model file, so a corrupt or
/// foreign message fails with an error naming its source.
/// </summary>
internal static class RolloutWire
{
    private const string States = "states", LogProbs = "log_probs", Sigmas = "sigmas", Timesteps = "timesteps", Previous = "previous_timesteps", Total = "reward.total";
    private const string ComponentPrefix = "reward.component.";

    /// <summary>
    /// A chunk as bytes: float32 states [S+1, B, C, H, W] and log-probabilities [S, B], float64 σ and int64 timesteps [S],
    /// float32 rewards [B] (the total and each component, by name). About (S+1)·C·H·W·4 bytes per trajectory.
    /// </summary>
    public static byte[] WriteChunk(ScoredRollout chunk)
    {
        var r = chunk.Rollout;
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [States] = r.States.cpu(),
            [LogProbs] = r.LogProbs.cpu(),
            [Sigmas] = tensor(r.Sigmas),
            [Timesteps] = tensor(r.Timesteps.Select(t => (long)t).ToArray()),
            [Previous] = tensor(r.PreviousTimesteps.Select(t => (long)t).ToArray()),
            [Total] = chunk.Total.cpu(),
        };
        for (int i = 0; i < chunk.Components.Count; i++)
            tensors[$"{ComponentPrefix}{i}.{chunk.Components[i].Name}"] = chunk.Components[i].Scores.cpu();
        return ModelArchive.SaveTensors(tensors);
    }

    /// <summary>
    /// Reads a chunk written by <see cref="WriteChunk"/> for <paramref name="prompts"/> (the chunk's part of the plan) onto
    /// <paramref name="model"/>'s device, with the prompts' token ids encoded here. Throws <see cref="InvalidDataException"/>
    /// naming <paramref name="source"/> when the bytes do not hold that many trajectories of that model's sample shape.
    /// </summary>
    public static ScoredRollout ReadChunk(byte[] bytes, string source, Diffusion.DenoisingModel model, IReadOnlyList<string> prompts)
    {
        var t = ModelArchive.LoadTensors(bytes, source);
        try
        {
            using var scope = NewDisposeScope();
            var states = Require(t, States, source);
            long b = prompts.Count;
            var shape = model.SampleShape;
            if (states.dim() != 5 || states.shape[0] < 2 || states.shape[1] != b || !states.shape.Skip(2).SequenceEqual(shape) || states.dtype != float32)
                throw new InvalidDataException($"'{source}': states have shape [{string.Join(",", states.shape)}] ({states.dtype}), expected [S+1, {b}, {string.Join(", ", shape)}] float32.");
            long s = states.shape[0] - 1;
            var logps = Require(t, LogProbs, source);
            Expect(logps, new[] { s, b }, float32, LogProbs, source);
            var sigmas = Require(t, Sigmas, source);
            Expect(sigmas, new[] { s }, float64, Sigmas, source);
            var ts = Require(t, Timesteps, source);
            Expect(ts, new[] { s }, int64, Timesteps, source);
            var prev = Require(t, Previous, source);
            Expect(prev, new[] { s }, int64, Previous, source);
            var total = Require(t, Total, source);
            Expect(total, new[] { b }, float32, Total, source);
            var components = t.Keys.Where(k => k.StartsWith(ComponentPrefix, StringComparison.Ordinal))
                .Select(k => (Key: k, Tail: k[ComponentPrefix.Length..]))
                .Select(k => (k.Key, Index: int.TryParse(k.Tail.Split('.')[0], out int i) ? i : -1, Name: k.Tail[(k.Tail.IndexOf('.') + 1)..]))
                .OrderBy(k => k.Index).ToList();
            if (components.Select(c => c.Index).Where((index, i) => index != i).Any())
                throw new InvalidDataException($"'{source}': reward components are not numbered 0 … {components.Count - 1}.");
            foreach (var c in components) Expect(t[c.Key], new[] { b }, float32, c.Key, source);
            var device = model.Device;
            var rollout = new Rollout(prompts.ToArray(), model.EncodePrompts(prompts).DetachFromDisposeScope(),
                ts.data<long>().Select(v => (int)v).ToArray(), prev.data<long>().Select(v => (int)v).ToArray(), sigmas.data<double>().ToArray(),
                states.to(device).DetachFromDisposeScope(), logps.to(device).DetachFromDisposeScope());
            return new ScoredRollout(rollout, total.to(device).DetachFromDisposeScope(),
                components.Select(c => (c.Name, t[c.Key].to(device).DetachFromDisposeScope())).ToList());
        }
        finally
        {
            foreach (var v in t.Values) v.Dispose();
        }
    }

    /// <summary>The trainable weights (LoRA factors, or every weight of a full fine-tune) by name, as bytes.</summary>
    public static byte[] WriteSnapshot(FineTunePolicy policy)
    {
        using var scope = NewDisposeScope();
        return ModelArchive.SaveTensors(policy.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.detach().cpu(), StringComparer.Ordinal));
    }

    /// <summary>
    /// Copies a snapshot from <see cref="WriteSnapshot"/> into <paramref name="policy"/>'s trainable weights; the names and
    /// shapes must be exactly the policy's (the same base model and LoRA settings), or <see cref="InvalidDataException"/>
    /// names <paramref name="source"/> and the first mismatch.
    /// </summary>
    public static void ReadSnapshot(byte[] bytes, string source, FineTunePolicy policy)
    {
        var expected = policy.TrainableParameters.ToDictionary(p => p.Name, p => p.Parameter.shape, StringComparer.Ordinal);
        var t = ModelArchive.LoadTensors(bytes, source, expected);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, p) in policy.TrainableParameters) p.copy_(t[name]);
        }
        finally
        {
            foreach (var v in t.Values) v.Dispose();
        }
    }

    private static Tensor Require(Dictionary<string, Tensor> t, string name, string source) =>
        t.TryGetValue(name, out var v) ? v : throw new InvalidDataException($"'{source}' has no tensor '{name}'.");

    private static void Expect(Tensor v, long[] shape, ScalarType dtype, string name, string source)
    {
        if (!v.shape.SequenceEqual(shape) || v.dtype != dtype)
            throw new InvalidDataException($"'{source}': tensor '{name}' has shape [{string.Join(",", v.shape)}] ({v.dtype}), expected [{string.Join(",", shape)}] {dtype}.");
    }
}
