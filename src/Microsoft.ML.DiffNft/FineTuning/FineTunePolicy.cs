using Microsoft.ML.DiffNft.Diffusion;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// The network being fine-tuned (the policy) and the frozen base network it is regularised towards (the reference).
/// With LoRA both are the base network itself — adapter on, adapter off — so there is no second copy; a full fine-tune
/// trains a copy and keeps the base as the reference. While a policy exists the base model's weights are frozen
/// (no gradients accumulate in them); disposing it restores them and removes any adapter hooks.
/// </summary>
internal abstract class FineTunePolicy : IDisposable
{
    private readonly (Tensor Parameter, bool RequiresGrad)[] _frozen;
    private bool _disposed;

    protected FineTunePolicy(DiffusionModel baseModel)
    {
        BaseModel = baseModel;
        _frozen = baseModel.Network.parameters().Select(p => ((Tensor)p, p.requires_grad)).ToArray();
        foreach (var (p, _) in _frozen) p.requires_grad_(false);
    }

    /// <summary>The base model (not owned).</summary>
    public DiffusionModel BaseModel { get; }

    /// <summary>The model whose <see cref="DiffusionModel.GuidedOutput"/> and <see cref="DiffusionModel.Generate"/> run the policy.</summary>
    public abstract DiffusionModel Model { get; }

    /// <summary>The tensors the optimizer updates, by stable name.</summary>
    public abstract IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters { get; }

    /// <summary>Number of trainable elements.</summary>
    public long TrainableCount => TrainableParameters.Sum(p => p.Parameter.numel());

    /// <summary>The policy's guided network output (with gradients unless the caller disabled them).</summary>
    public Tensor PolicyOutput(Tensor xt, int t, Tensor ids, double guidance) => Model.GuidedOutput(xt, t, ids, guidance);

    /// <summary>The reference's guided network output, without gradients.</summary>
    public Tensor ReferenceOutput(Tensor xt, int t, Tensor ids, double guidance)
    {
        using var noGrad = no_grad();
        using var reference = ReferenceScope();
        return BaseModel.GuidedOutput(xt, t, ids, guidance);
    }

    /// <summary>While the returned scope lives, the base network computes the reference (LoRA: adapter off).</summary>
    public abstract IDisposable ReferenceScope();

    /// <summary>A new model with the fine-tuned weights (LoRA merged into the weights), owned by the caller.</summary>
    public abstract DiffusionModel Export();

    /// <summary>Creates the policy for the options: LoRA for a positive rank, otherwise a full fine-tune.</summary>
    public static FineTunePolicy Create(DiffusionModel baseModel, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        return options.LoraRank > 0
            ? new LoraPolicy(baseModel, options.LoraRank, options.EffectiveLoraAlpha, options.LoraTargets, options.EffectiveSeed)
            : new FullPolicy(baseModel);
    }

    /// <summary>A new model with the same options, vocabulary and weights as <paramref name="source"/>.</summary>
    internal static DiffusionModel Clone(DiffusionModel source)
    {
        var copy = new DiffusionModel(source.Options, source.Tokenizer, source.Device);
        using var noGrad = no_grad();
        var dst = copy.Network.state_dict();
        foreach (var (name, value) in source.Network.state_dict())
            dst[name].copy_(value);
        return copy;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeCore();
        foreach (var (p, requiresGrad) in _frozen) p.requires_grad_(requiresGrad);
    }

    protected abstract void DisposeCore();

    private sealed class LoraPolicy : FineTunePolicy
    {
        private readonly LoraAdapter _adapter;

        public LoraPolicy(DiffusionModel baseModel, int rank, double alpha, LoraTargets targets, long seed) : base(baseModel)
        {
            try
            {
                _adapter = LoraAdapter.Attach(baseModel.Network, rank, alpha, targets, seed, baseModel.Device);
            }
            catch
            {
                foreach (var (p, requiresGrad) in _frozen) p.requires_grad_(requiresGrad);
                throw;
            }
        }

        public override DiffusionModel Model => BaseModel;

        public override IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters => _adapter.Parameters;

        internal LoraAdapter Adapter => _adapter;

        public override IDisposable ReferenceScope() => _adapter.Disable();

        public override DiffusionModel Export()
        {
            var merged = Clone(BaseModel);
            _adapter.MergeInto(merged.Network);
            return merged;
        }

        protected override void DisposeCore() => _adapter.Dispose();
    }

    private sealed class FullPolicy : FineTunePolicy
    {
        private readonly DiffusionModel _trained;

        public FullPolicy(DiffusionModel baseModel) : base(baseModel)
        {
            _trained = Clone(baseModel);
            foreach (var p in _trained.Network.parameters()) p.requires_grad_(true);
        }

        public override DiffusionModel Model => _trained;

        public override IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters =>
            _trained.Network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();

        public override IDisposable ReferenceScope() => NoScope.Instance;

        public override DiffusionModel Export()
        {
            var copy = Clone(_trained);
            foreach (var p in copy.Network.parameters()) p.requires_grad_(true);
            return copy;
        }

        protected override void DisposeCore() => _trained.Dispose();
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
