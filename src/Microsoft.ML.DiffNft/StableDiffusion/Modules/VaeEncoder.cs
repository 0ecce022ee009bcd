using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' VAE <c>Encoder</c> (the <c>encoder</c> of <see cref="AutoencoderKL"/>): <c>conv_in</c>, <c>down_blocks.{i}</c>
/// (<c>DownEncoderBlock2D</c>: resnets without time embedding, epsilon 1e-6, stride-2 conv with padding 0 after an
/// asymmetric zero pad), <c>mid_block</c> (<see cref="UNetMidBlock2D"/>), <c>conv_norm_out</c> (epsilon 1e-6), SiLU,
/// <c>conv_out</c> to 2 × latent channels (mean and log-variance).
/// </summary>
internal sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;
    private readonly TorchSharp.Modules.Conv2d conv_in;
    private readonly TorchSharp.Modules.ModuleList<DownBlock2D> down_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly TorchSharp.Modules.GroupNorm conv_norm_out;
    private readonly TorchSharp.Modules.Conv2d conv_out;

    /// <summary>Builds the encoder from a validated VAE config.</summary>
    /// <param name="layers">Device and dtype of the parameters.</param>
    /// <param name="config">The VAE's architecture.</param>
    public VaeEncoder(LayerFactory layers, AutoencoderKLConfig config) : base(nameof(VaeEncoder))
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(config);
        var ch = config.BlockOutChannels;
        int n = ch.Count, groups = config.NormNumGroups;
        conv_in = layers.Conv2d(config.InChannels, ch[0], 3, padding: 1);
        var down = new DownBlock2D[n];
        int output = ch[0];
        for (int i = 0; i < n; i++)
        {
            int input = output;
            output = ch[i];
            down[i] = new DownBlock2D(layers, input, output, null, config.LayersPerBlock, groups, Eps,
                addDownsample: i < n - 1, downsamplePadding: 0, transformer: null);
        }
        down_blocks = nn.ModuleList(down);
        mid_block = new UNetMidBlock2D(layers, ch[n - 1], groups, Eps);
        conv_norm_out = layers.GroupNorm(groups, ch[n - 1], Eps);
        conv_out = layers.Conv2d(ch[n - 1], 2L * config.LatentChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Images [B, in_channels, H, W] → moments [B, 2 × latent, H/2^(n−1), W/2^(n−1)] (sizes rounded down).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(x);
        foreach (var block in down_blocks) h = block.Forward(h, null, null).Output;
        h = mid_block.call(h);
        h = nn.functional.silu(conv_norm_out.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
