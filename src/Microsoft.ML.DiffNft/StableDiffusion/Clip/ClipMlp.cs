using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>The feed-forward part of a CLIP encoder layer (<c>mlp</c>): <c>fc1</c>, the configured activation, <c>fc2</c>.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly ClipActivation _activation;
    private readonly TorchSharp.Modules.Linear _fc1;
    private readonly TorchSharp.Modules.Linear _fc2;

    /// <summary>Creates the two linear layers for <paramref name="config"/>.</summary>
    public ClipMlp(ClipTextConfig config) : base(nameof(ClipMlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        _activation = config.HiddenAct;
        _fc1 = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _fc2 = nn.Linear(config.IntermediateSize, config.HiddenSize);
        register_module("fc1", _fc1);
        register_module("fc2", _fc2);
    }

    /// <summary>Maps [B, L, H] to [B, L, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return _fc2.call(ClipActivations.Apply(_activation, _fc1.call(x))).MoveToOuterDisposeScope();
    }
}
