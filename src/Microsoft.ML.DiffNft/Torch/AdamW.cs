using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Torch;

/// <summary>
/// AdamW (Loshchilov and Hutter) written with tensor ops so that its whole state — first and second moments and the
/// step count — is plain named tensors that go into a checkpoint and come back bit for bit. Resuming a run then
/// continues exactly where it stopped, which TorchSharp's optimizer state files do not promise.
/// </summary>
internal sealed class AdamW : IDisposable
{
    private readonly IReadOnlyList<(string Name, Tensor Param)> _params;
    private readonly Tensor[] _m;
    private readonly Tensor[] _v;

    public AdamW(IEnumerable<(string Name, Tensor Param)> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.0)
    {
        _params = parameters.Where(p => p.Param.requires_grad).ToList();
        if (_params.Count == 0) throw new ArgumentException("AdamW needs at least one trainable parameter.");
        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _m = _params.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
        _v = _params.Select(p => zeros_like(p.Param).DetachFromDisposeScope()).ToArray();
    }

    public double LearningRate { get; set; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    /// <summary>Number of updates applied so far.</summary>
    public long Step { get; private set; }

    /// <summary>Clears the gradients of all parameters.</summary>
    public void ZeroGrad()
    {
        // Each read of .grad makes a new tensor handle; the scope frees them even when the caller has no scope.
        using var scope = NewDisposeScope();
        foreach (var (_, p) in _params)
        {
            var g = p.grad;
            if (g is not null) g.zero_();
        }
    }

    /// <summary>Clips the global gradient norm; returns the norm before clipping.</summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = _params.Select(p => p.Param.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        var total = stack(grads.Select(g => g.square().sum()).ToArray()).sum().sqrt();
        double norm = total.item<float>();
        if (norm > maxNorm && maxNorm > 0)
        {
            double scale = maxNorm / (norm + 1e-6);
            foreach (var g in grads) g.mul_(scale);
        }
        return norm;
    }

    /// <summary>Applies one update from the current gradients.</summary>
    public void StepUpdate()
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step), bc2 = 1 - Math.Pow(Beta2, Step);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _params.Count; i++)
        {
            var p = _params[i].Param;
            var g = p.grad;
            if (g is null) continue;
            if (WeightDecay > 0) p.mul_(1 - LearningRate * WeightDecay);
            _m[i].mul_(Beta1).add_(g, alpha: 1 - Beta1);
            _v[i].mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
            var denom = (_v[i] / bc2).sqrt_().add_(Eps);
            p.addcdiv_(_m[i], denom, value: -LearningRate / bc1);
        }
    }

    /// <summary>The optimizer state as named tensors (copies), for checkpoints.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < _params.Count; i++)
        {
            state["adam.m." + _params[i].Name] = _m[i].detach().clone().cpu();
            state["adam.v." + _params[i].Name] = _v[i].detach().clone().cpu();
        }
        state["adam.step"] = tensor(new long[] { Step });
        return state;
    }

    /// <summary>
    /// Restores the state written by <see cref="StateDict"/>; every moment must be present with the right shape, or an
    /// <see cref="InvalidDataException"/> names <paramref name="source"/> (the checkpoint) and the tensor.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Count; i++)
        {
            foreach (var (prefix, target) in new[] { ("adam.m.", _m[i]), ("adam.v.", _v[i]) })
            {
                if (!state.TryGetValue(prefix + _params[i].Name, out var src))
                    throw new InvalidDataException($"Checkpoint '{source}' has no optimizer state '{prefix + _params[i].Name}'.");
                if (!src.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"Checkpoint '{source}': optimizer state '{prefix + _params[i].Name}' has shape [{string.Join(",", src.shape)}], expected [{string.Join(",", target.shape)}].");
                target.copy_(src);
            }
        }
        if (!state.TryGetValue("adam.step", out var step))
            throw new InvalidDataException($"Checkpoint '{source}' has no optimizer step count 'adam.step'.");
        Step = step.item<long>();
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
