using Microsoft.ML.DiffNft.Diffusion.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// Counts the floating-point operations of one forward pass of a network, per image: convolutions and linear layers
/// through forward hooks on a real batch-1 forward (so the count follows the architecture, not a formula kept by hand),
/// plus the attention matmuls, which run as functions. A multiply-add counts as 2 FLOPs; norms and activations are not
/// counted (they are memory-bound and small). Training costs about 3× the forward.
/// </summary>
internal static class FlopCounter
{
    /// <summary>Forward FLOPs per image of a diffusion model's network, prompt encoder included.</summary>
    public static double ForwardFlopsPerImage(DiffusionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = model.Options.UNet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        double flops = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in model.Network.named_modules())
        {
            if (module is TorchSharp.Modules.Conv2d conv)
            {
                var hc = conv.register_forward_hook((m, input, output) =>
                {
                    long k = conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                    flops += 2.0 * output.numel() * k;
                    return output;
                });
                removers.Add(hc.remove);
            }
            else if (module is TorchSharp.Modules.Linear lin)
            {
                var hl = lin.register_forward_hook((m, input, output) =>
                {
                    flops += 2.0 * output.numel() * lin.weight!.shape[1];
                    return output;
                });
                removers.Add(hl.remove);
            }
        }
        var x = zeros(1, o.ImageChannels, o.ImageSize, o.ImageSize, device: model.Device);
        var t = zeros(new long[] { 1 }, int64, model.Device);
        var ids = zeros(new long[] { 1, o.MaxTokens }, int64, model.Device);
        model.Network.forward(x, t, ids);
        foreach (var remove in removers) remove();

        // Attention matmuls (QKᵀ and AV, 2 FLOPs per multiply-add each).
        long lowest = o.ImageSize / o.PatchSize >> (o.ChannelMultipliers.Length - 1);
        long n = lowest * lowest, c = (long)o.BaseChannels * o.ChannelMultipliers[^1], l = o.MaxTokens;
        flops += 4.0 * n * n * c + 4.0 * n * l * c;
        flops += o.TextLayers * 4.0 * l * l * o.TextDim;
        return flops;
    }
}
