using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>The stack of <see cref="ClipEncoderLayer"/>s (<c>text_model.encoder.layers</c>).</summary>
internal sealed class ClipEncoder : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<ClipEncoderLayer> layers;

    /// <summary>Creates <see cref="ClipTextConfig.NumHiddenLayers"/> layers.</summary>
    public ClipEncoder(ClipTextConfig config) : base(nameof(ClipEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new ClipEncoderLayer(config)).ToArray());
        RegisterComponents(); // TorchSharp names submodules after their fields: the fields carry transformers' names.
    }

    /// <summary>Number of layers.</summary>
    public int Count => layers.Count;

    /// <summary>Runs every layer.</summary>
    public override Tensor forward(Tensor x, Tensor? mask) => Run(x, mask, layers.Count);

    /// <summary>
    /// Runs the first <paramref name="count"/> layers (0 returns the input unchanged, as a new handle): the output is
    /// transformers' <c>hidden_states[count]</c>.
    /// </summary>
    public Tensor Run(Tensor x, Tensor? mask, int count)
    {
        if (count < 0 || count > layers.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The encoder has {layers.Count} layers.");
        using var scope = NewDisposeScope();
        var h = x.alias();
        for (int i = 0; i < count; i++)
            h = layers[i].call(h, mask);
        return h.MoveToOuterDisposeScope();
    }
}
