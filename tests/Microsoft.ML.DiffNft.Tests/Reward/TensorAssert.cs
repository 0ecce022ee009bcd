using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

internal static class TensorAssert
{
    /// <summary>True when both tensors have the same shape and bit-identical values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
