using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion.Modules;

/// <summary>
/// A text-conditioned UNet (ADM-style): residual blocks with GroupNorm, SiLU and FiLM from time + pooled prompt, a
/// middle block with self- and cross-attention at the lowest resolution, skip connections, and a prompt encoder.
/// Forward: (x_t [B,C,H,W], t [B] int64, prompt ids [B,L] int64) → prediction [B,C,H,W].
/// </summary>
internal sealed class ConditionalUNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly UNetOptions _options;
    private readonly TextEncoder text;
    private readonly TimestepEmbedding time;
    private readonly TorchSharp.Modules.Linear textToEmb;
    private readonly TorchSharp.Modules.Conv2d convIn;
    private readonly TorchSharp.Modules.ModuleList<ResBlock> downBlocks;
    private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Conv2d> downSamples;
    private readonly ResBlock mid1;
    private readonly AttentionBlock midAttn;
    private readonly ResBlock mid2;
    private readonly TorchSharp.Modules.ModuleList<ResBlock> upBlocks;
    private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Conv2d> upSamples;
    private readonly TorchSharp.Modules.GroupNorm normOut;
    private readonly TorchSharp.Modules.Conv2d convOut;

    public ConditionalUNet(UNetOptions options, int vocabSize, int padId) : base(nameof(ConditionalUNet))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        int b = options.BaseChannels, embDim = 4 * b, g = options.Groups;
        text = new TextEncoder(vocabSize, options.MaxTokens, options.TextDim, options.TextLayers, options.TextHeads, padId);
        time = new TimestepEmbedding(b, embDim);
        textToEmb = nn.Linear(options.TextDim, embDim);
        int patchChannels = options.ImageChannels * options.PatchSize * options.PatchSize;
        convIn = nn.Conv2d(patchChannels, b, 3, padding: 1);

        var down = new List<ResBlock>();
        var downS = new List<TorchSharp.Modules.Conv2d>();
        var skips = new Stack<int>();
        skips.Push(b);
        int ch = b;
        int levels = options.ChannelMultipliers.Length;
        for (int i = 0; i < levels; i++)
        {
            int outCh = b * options.ChannelMultipliers[i];
            for (int r = 0; r < options.ResBlocksPerLevel; r++)
            {
                down.Add(new ResBlock(ch, outCh, embDim, g));
                ch = outCh;
                skips.Push(ch);
            }
            if (i < levels - 1)
            {
                downS.Add(nn.Conv2d(ch, ch, 3, stride: 2, padding: 1));
                skips.Push(ch);
            }
        }
        mid1 = new ResBlock(ch, ch, embDim, g);
        midAttn = new AttentionBlock(ch, options.TextDim, options.AttentionHeads, g);
        mid2 = new ResBlock(ch, ch, embDim, g);

        var up = new List<ResBlock>();
        var upS = new List<TorchSharp.Modules.Conv2d>();
        for (int i = levels - 1; i >= 0; i--)
        {
            int outCh = b * options.ChannelMultipliers[i];
            for (int r = 0; r < options.ResBlocksPerLevel + 1; r++)
            {
                up.Add(new ResBlock(ch + skips.Pop(), outCh, embDim, g));
                ch = outCh;
            }
            if (i > 0) upS.Add(nn.Conv2d(ch, ch, 3, padding: 1));
        }
        downBlocks = nn.ModuleList(down.ToArray());
        downSamples = nn.ModuleList(downS.ToArray());
        upBlocks = nn.ModuleList(up.ToArray());
        upSamples = nn.ModuleList(upS.ToArray());
        normOut = Norms.GroupNorm(g, ch);
        convOut = Norms.Zero(nn.Conv2d(ch, patchChannels, 3, padding: 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var (tokens, pooled) = text.call(ids);
        var emb = time.call(t) + textToEmb.call(pooled);

        int p = _options.PatchSize;
        var h = convIn.call(p > 1 ? nn.functional.pixel_unshuffle(x, p) : x);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        int levels = _options.ChannelMultipliers.Length, block = 0;
        for (int i = 0; i < levels; i++)
        {
            for (int r = 0; r < _options.ResBlocksPerLevel; r++)
            {
                h = downBlocks[block++].call(h, emb);
                skips.Push(h);
            }
            if (i < levels - 1)
            {
                h = downSamples[i].call(h);
                skips.Push(h);
            }
        }
        h = mid1.call(h, emb);
        h = midAttn.call(h, tokens);
        h = mid2.call(h, emb);

        block = 0;
        int upIndex = 0;
        for (int i = levels - 1; i >= 0; i--)
        {
            for (int r = 0; r < _options.ResBlocksPerLevel + 1; r++)
                h = upBlocks[block++].call(cat(new[] { h, skips.Pop() }, 1), emb);
            if (i > 0)
            {
                h = nn.functional.interpolate(h, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
                h = upSamples[upIndex++].call(h);
            }
        }
        var output = convOut.call(nn.functional.silu(normOut.call(h)));
        if (p > 1) output = nn.functional.pixel_shuffle(output, p);
        return output.MoveToOuterDisposeScope();
    }
}
