using Microsoft.ML.DiffNft.Reward.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// The trait classifier's network: three convolution stages of widths W, 2W, 4W at sides S, S/2, S/4 (two 3×3
/// convolutions each, GroupNorm and SiLU after each), a stride-2 convolution to a ⌈S/8⌉² grid, then the grid is
/// flattened — not pooled: in pixel-art collections a part's position says what it is (eyes and mouth differ by where
/// they sit) — into a hidden layer and one linear layer whose outputs are every head's logits side by side.
/// </summary>
internal sealed class TraitClassifierNetwork : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly TorchSharp.Modules.Linear hidden;
    private readonly TorchSharp.Modules.Linear heads;

    public TraitClassifierNetwork(TraitClassifierArchitecture architecture, int totalClasses) : base(nameof(TraitClassifierNetwork))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        architecture.Validate();
        if (totalClasses < 1) throw new ArgumentOutOfRangeException(nameof(totalClasses), totalClasses, "At least one class is needed.");
        int w = architecture.Width;
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        void Conv(string name, int input, int output, int stride)
        {
            layers.Add((name, nn.Conv2d(input, output, 3, stride: stride, padding: 1)));
            layers.Add((name + "_norm", nn.GroupNorm(Groups(output), output)));
            layers.Add((name + "_act", nn.SiLU()));
        }
        Conv("conv1a", 3, w, 1);
        Conv("conv1b", w, w, 1);
        Conv("conv2a", w, 2 * w, 2);
        Conv("conv2b", 2 * w, 2 * w, 1);
        Conv("conv3a", 2 * w, 4 * w, 2);
        Conv("conv3b", 4 * w, 4 * w, 1);
        Conv("conv4", 4 * w, 4 * w, 2);
        features = nn.Sequential(layers.ToArray());
        int grid = architecture.GridSide;
        hidden = nn.Linear(4L * w * grid * grid, architecture.HiddenSize);
        heads = nn.Linear(architecture.HiddenSize, totalClasses);
        RegisterComponents();
        // TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised (torch.empty), so they are set explicitly.
        LayerNorms.Initialise(this);
    }

    /// <summary>GroupNorm groups for a width: 8 when it divides the width, else the largest divisor of 8 that does.</summary>
    internal static int Groups(int channels) => channels % 8 == 0 ? 8 : channels % 4 == 0 ? 4 : channels % 2 == 0 ? 2 : 1;

    /// <param name="images">Normalised images [N, 3, S, S].</param>
    /// <returns>Every head's logits side by side [N, Σ classes].</returns>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var h = features.call(images).flatten(1);
        h = nn.functional.silu(hidden.call(h));
        return heads.call(h).MoveToOuterDisposeScope();
    }
}
