using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>Normalisation layers with the initialisation TorchSharp 0.107.0 forgets.</summary>
internal static class Norms
{
    /// <summary>
    /// A GroupNorm whose affine weight is 1 and bias 0. TorchSharp 0.107.0's <c>nn.GroupNorm</c> leaves them as
    /// <c>torch.empty</c>: activations explode to ~1e37, then NaN, and everything slows down.
    /// </summary>
    public static GroupNorm GroupNorm(int groups, long channels)
    {
        if (channels % groups != 0)
            throw new ArgumentException($"GroupNorm needs the channel count ({channels}) to be a multiple of the group count ({groups}).");
        var gn = nn.GroupNorm(groups, channels);
        using (no_grad())
        {
            gn.weight!.fill_(1);
            gn.bias!.fill_(0);
        }
        return gn;
    }

    /// <summary>Sets a layer's weight and bias to zero (output layers of residual branches start as the identity).</summary>
    public static T Zero<T>(T module) where T : nn.Module
    {
        using (no_grad())
            foreach (var p in module.parameters())
                p.zero_();
        return module;
    }
}
