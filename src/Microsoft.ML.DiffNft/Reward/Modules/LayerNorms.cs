using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward.Modules;

/// <summary>Explicit initialisation of normalisation layers.</summary>
internal static class LayerNorms
{
    /// <summary>
    /// Sets the affine weight of every LayerNorm and GroupNorm inside <paramref name="module"/> to 1 and its bias to 0.
    /// TorchSharp 0.107.0 leaves GroupNorm's affine parameters uninitialised (<c>torch.empty</c>); LayerNorm happens to be
    /// initialised today, but a network whose correctness rests on that is one TorchSharp release away from NaNs.
    /// </summary>
    public static void Initialise(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            switch (child)
            {
                case TorchSharp.Modules.LayerNorm ln:
                    ln.weight?.fill_(1);
                    ln.bias?.fill_(0);
                    break;
                case TorchSharp.Modules.GroupNorm gn:
                    gn.weight?.fill_(1);
                    gn.bias?.fill_(0);
                    break;
            }
        }
    }
}
