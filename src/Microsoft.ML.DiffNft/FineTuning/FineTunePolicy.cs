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

    protected FineTunePolicy(DenoisingModel baseModel)
    {
        BaseModel = baseModel;
        _frozen = baseModel.Denoiser.parameters().Select(p => ((Tensor)p, p.requires_grad)).ToArray();
        foreach (var (p, _) in _frozen) p.requires_grad_(false);
    }

    /// <summary>The base model (not owned).</summary>
    public DenoisingModel BaseModel { get; }

    /// <summary>The model whose <see cref="DenoisingModel.GuidedOutput"/> and <see cref="DenoisingModel.Generate"/> run the policy.</summary>
    public abstract DenoisingModel Model { get; }

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
    public abstract DenoisingModel Export();

    /// <summary>The LoRA adapter being trained; null for a full fine-tune.</summary>
    public virtual LoraAdapter? Adapter => null;

    /// <summary>Creates the policy for the options: LoRA for a positive rank, otherwise a full fine-tune.</summary>
    public static FineTunePolicy Create(DenoisingModel baseModel, FineTuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        return options.LoraRank > 0
            ? new LoraPolicy(baseModel, options.LoraRank, options.EffectiveLoraAlpha, options.LoraTargets, options.EffectiveSeed)
            : new FullPolicy(baseModel);
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

        public LoraPolicy(DenoisingModel baseModel, int rank, double alpha, LoraTargets targets, long seed) : base(baseModel)
        {
            try
            {
                _adapter = LoraAdapter.Attach(baseModel.Denoiser, rank, alpha, targets, seed, baseModel.Device);
            }
            catch
            {
                foreach (var (p, requiresGrad) in _frozen) p.requires_grad_(requiresGrad);
                throw;
            }
        }

        public override DenoisingModel Model => BaseModel;

        public override IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters => _adapter.Parameters;

        public override LoraAdapter Adapter => _adapter;

        public override IDisposable ReferenceScope() => _adapter.Disable();

        public override DenoisingModel Export()
        {
            var merged = BaseModel.CloneForTraining();
            _adapter.MergeInto(merged.Denoiser);
            return merged;
        }

        protected override void DisposeCore() => _adapter.Dispose();
    }

    private sealed class FullPolicy : FineTunePolicy
    {
        private readonly DenoisingModel _trained;

        public FullPolicy(DenoisingModel baseModel) : base(baseModel)
        {
            _trained = baseModel.CloneForTraining();
            foreach (var p in _trained.Denoiser.parameters()) p.requires_grad_(true);
        }

        public override DenoisingModel Model => _trained;

        public override IReadOnlyList<(string Name, Tensor Parameter)> TrainableParameters =>
            _trained.Denoiser.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();

        public override IDisposable ReferenceScope() => NoScope.Instance;

        public override DenoisingModel Export()
        {
            var copy = _trained.CloneForTraining();
            foreach (var p in copy.Denoiser.parameters()) p.requires_grad_(true);
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
