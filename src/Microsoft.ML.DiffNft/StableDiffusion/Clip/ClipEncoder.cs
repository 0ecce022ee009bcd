using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>The stack of <see cref="ClipEncoderLayer"/>s (<c>text_model.encoder.layers</c>).</summary>
internal sealed class ClipEncoder : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<ClipEncoderLayer> _layers;

    /// <summary>Creates <see cref="ClipTextConfig.NumHiddenLayers"/> layers.</summary>
    public ClipEncoder(ClipTextConfig config) : base(nameof(ClipEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        _layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new ClipEncoderLayer(config)).ToArray());
        register_module("layers", _layers);
    }

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>Runs every layer.</summary>
    public override Tensor forward(Tensor x, Tensor? mask) => Run(x, mask, _layers.Count);

    /// <summary>
    /// Runs the first <paramref name="layers"/> layers (0 returns the input unchanged, as a new handle): the output is
    /// transformers' <c>hidden_states[layers]</c>.
    /// </summary>
    public Tensor Run(Tensor x, Tensor? mask, int layers)
    {
        if (layers < 0 || layers > _layers.Count)
            throw new ArgumentOutOfRangeException(nameof(layers), layers, $"The encoder has {_layers.Count} layers.");
        using var scope = NewDisposeScope();
        var h = x.alias();
        for (int i = 0; i < layers; i++)
            h = _layers[i].call(h, mask);
        return h.MoveToOuterDisposeScope();
    }
}
