using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward.Modules;

/// <summary>
/// Turns images [N, 3, S, S] into tokens [N, T, Dim]: either one P×P convolution of stride P (the linear patch
/// embedding of the original ViT), or a stem of log2(P) 3×3 convolutions of stride 2 (padding 1) with GELU between
/// them and widths Dim/2^(L−1), …, Dim/2, Dim.
/// </summary>
internal sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Conv2d> convs;

    public PatchEmbedding(VitOptions options) : base(nameof(PatchEmbedding))
    {
        var layers = new List<TorchSharp.Modules.Conv2d>();
        if (options.PatchEmbedding == VitPatchEmbedding.Linear)
        {
            layers.Add(nn.Conv2d(3, options.Dim, options.PatchSize, stride: options.PatchSize));
        }
        else
        {
            int stages = options.StemLayers;
            long input = 3;
            for (int i = 1; i <= stages; i++)
            {
                long output = options.Dim >> (stages - i);
                layers.Add(nn.Conv2d(input, output, 3, stride: 2, padding: 1));
                input = output;
            }
        }
        convs = nn.ModuleList(layers.ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var h = images;
        for (int i = 0; i < convs.Count; i++)
        {
            h = convs[i].call(h);
            if (i < convs.Count - 1) h = nn.functional.gelu(h);
        }
        return h.flatten(2).transpose(1, 2).MoveToOuterDisposeScope();
    }
}
