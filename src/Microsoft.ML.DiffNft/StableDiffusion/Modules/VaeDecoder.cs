using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' VAE <c>Decoder</c> (the <c>decoder</c> of <see cref="AutoencoderKL"/>): <c>conv_in</c> from the latent
/// channels to the widest level, <c>mid_block</c>, <c>up_blocks.{i}</c> (<see cref="UpDecoderBlock2D"/>, layers_per_block + 1
/// resnets each, widest first), <c>conv_norm_out</c> (epsilon 1e-6), SiLU, <c>conv_out</c>.
/// </summary>
internal sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;
    private readonly TorchSharp.Modules.Conv2d conv_in;
    private readonly TorchSharp.Modules.ModuleList<UpDecoderBlock2D> up_blocks;
    private readonly UNetMidBlock2D mid_block;
    private readonly TorchSharp.Modules.GroupNorm conv_norm_out;
    private readonly TorchSharp.Modules.Conv2d conv_out;

    /// <summary>Builds the decoder from a validated VAE config.</summary>
    /// <param name="layers">Device and dtype of the parameters.</param>
    /// <param name="config">The VAE's architecture.</param>
    public VaeDecoder(LayerFactory layers, AutoencoderKLConfig config) : base(nameof(VaeDecoder))
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(config);
        var ch = config.BlockOutChannels;
        int n = ch.Count, groups = config.NormNumGroups;
        conv_in = layers.Conv2d(config.LatentChannels, ch[n - 1], 3, padding: 1);
        mid_block = new UNetMidBlock2D(layers, ch[n - 1], groups, Eps);
        var up = new UpDecoderBlock2D[n];
        int output = ch[n - 1];
        for (int i = 0; i < n; i++)
        {
            int input = output;
            output = ch[n - 1 - i];
            up[i] = new UpDecoderBlock2D(layers, input, output, config.LayersPerBlock + 1, groups, Eps, addUpsample: i < n - 1);
        }
        up_blocks = nn.ModuleList(up);
        conv_norm_out = layers.GroupNorm(groups, ch[0], Eps);
        conv_out = layers.Conv2d(ch[0], config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Latents (after <c>post_quant_conv</c>) [B, latent, h, w] → images [B, out_channels, h·2^(n−1), w·2^(n−1)].</summary>
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(z);
        h = mid_block.call(h);
        // diffusers casts to the up blocks' dtype here (it matters when the mid block runs in another precision).
        var upDtype = up_blocks[0].parameters().First().dtype;
        if (h.dtype != upDtype) h = h.to_type(upDtype);
        foreach (var block in up_blocks) h = block.call(h);
        h = nn.functional.silu(conv_norm_out.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
