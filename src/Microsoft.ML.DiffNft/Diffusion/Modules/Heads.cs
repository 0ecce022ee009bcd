using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>Reshapes between token sequences [B, N, C] and attention heads [B, H, N, C/H] for sdpa.</summary>
internal static class Heads
{
    public static Tensor Split(Tensor t, int heads) =>
        t.reshape(t.shape[0], t.shape[1], heads, t.shape[2] / heads).transpose(1, 2);

    public static Tensor Merge(Tensor t) => t.transpose(1, 2).flatten(2);
}
