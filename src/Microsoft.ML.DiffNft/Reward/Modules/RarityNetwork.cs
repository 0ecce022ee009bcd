using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward.Modules;

/// <summary>
/// The rarity reward network: a <see cref="VisionTransformer"/> backbone and two linear heads on its embedding —
/// the normalised rarity score (regression) and the raw logit of <c>IsRare</c> (classification).
/// </summary>
internal sealed class RarityNetwork : nn.Module<Tensor, (Tensor Embedding, Tensor Score, Tensor RareLogit)>
{
    private readonly VisionTransformer backbone;
    private readonly TorchSharp.Modules.Linear scoreHead;
    private readonly TorchSharp.Modules.Linear rareHead;

    public RarityNetwork(VitOptions options) : base(nameof(RarityNetwork))
    {
        backbone = new VisionTransformer(options);
        scoreHead = nn.Linear(options.Dim, 1);
        rareHead = nn.Linear(options.Dim, 1);
        RegisterComponents();
    }

    /// <param name="images">Preprocessed images [N, 3, S, S].</param>
    /// <returns>The embedding [N, Dim], the predicted normalised score [N] and the raw rare logit [N].</returns>
    public override (Tensor Embedding, Tensor Score, Tensor RareLogit) forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var e = backbone.call(images);
        var score = scoreHead.call(e).squeeze(-1);
        var logit = rareHead.call(e).squeeze(-1);
        return (e.MoveToOuterDisposeScope(), score.MoveToOuterDisposeScope(), logit.MoveToOuterDisposeScope());
    }
}
