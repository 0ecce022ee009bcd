using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// A reward under another name. Fine-tuning names its rarity component "rarity" whatever was loaded, so the log's
/// columns are always reward_rarity and reward_fidelity, and a builtin:fidelity rarity cannot clash with the fidelity term.
/// </summary>
internal sealed class NamedReward(string name, IImageReward inner) : IImageReward, IImageEmbedding
{
    public string Name => name;

    public bool IsDifferentiable => inner.IsDifferentiable;

    public Tensor Score(Tensor images) => inner.Score(images);

    public Tensor? Embed(Tensor images) => IImageEmbedding.Of(inner, images);
}
