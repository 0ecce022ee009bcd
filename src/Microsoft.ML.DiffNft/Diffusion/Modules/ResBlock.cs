using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>
/// A residual block: GN, SiLU, 3×3 conv, then FiLM from the conditioning vector (scale and shift after the second GN),
/// SiLU, 3×3 conv (zero-initialised so the block starts as the identity), plus a 1×1 skip when channels change.
/// </summary>
internal sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.GroupNorm norm1;
    private readonly TorchSharp.Modules.Conv2d conv1;
    private readonly TorchSharp.Modules.Linear film;
    private readonly TorchSharp.Modules.GroupNorm norm2;
    private readonly TorchSharp.Modules.Conv2d conv2;
    private readonly TorchSharp.Modules.Conv2d? skip;

    public ResBlock(int inChannels, int outChannels, int embDim, int groups) : base(nameof(ResBlock))
    {
        norm1 = Norms.GroupNorm(groups, inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        film = nn.Linear(embDim, 2 * outChannels);
        norm2 = Norms.GroupNorm(groups, outChannels);
        conv2 = Norms.Zero(nn.Conv2d(outChannels, outChannels, 3, padding: 1));
        skip = inChannels != outChannels ? nn.Conv2d(inChannels, outChannels, 1) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        var h = conv1.call(nn.functional.silu(norm1.call(x)));
        var ss = film.call(nn.functional.silu(emb)).unsqueeze(-1).unsqueeze(-1).chunk(2, 1);
        h = norm2.call(h) * (ss[0] + 1) + ss[1];
        h = conv2.call(nn.functional.silu(h));
        var res = (skip is null ? x : skip.call(x)) + h;
        return res.MoveToOuterDisposeScope();
    }
}
