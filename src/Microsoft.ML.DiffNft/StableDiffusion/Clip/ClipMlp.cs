using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>The feed-forward part of a CLIP encoder layer (<c>mlp</c>): <c>fc1</c>, the configured activation, <c>fc2</c>.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly ClipActivation _activation;
    private readonly TorchSharp.Modules.Linear fc1;
    private readonly TorchSharp.Modules.Linear fc2;

    /// <summary>Creates the two linear layers for <paramref name="config"/>.</summary>
    public ClipMlp(ClipTextConfig config) : base(nameof(ClipMlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        _activation = config.HiddenAct;
        fc1 = nn.Linear(config.HiddenSize, config.IntermediateSize);
        fc2 = nn.Linear(config.IntermediateSize, config.HiddenSize);
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>Maps [B, L, H] to [B, L, H].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.call(ClipActivations.Apply(_activation, fc1.call(x))).MoveToOuterDisposeScope();
    }
}
