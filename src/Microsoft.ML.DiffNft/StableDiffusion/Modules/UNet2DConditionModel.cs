using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>UNet2DConditionModel</c> for Stable Diffusion 1.x/2.x, with the same parameter names so a diffusers
/// checkpoint's state dict loads without renaming: <c>conv_in</c>, <c>time_embedding.linear_1/2</c>, <c>down_blocks.{i}</c>,
/// <c>mid_block</c>, <c>up_blocks.{i}</c>, <c>conv_norm_out</c>, <c>conv_out</c>.
/// Forward: (noisy latents [B, C, H, W], timesteps [B] (or a scalar / [1], broadcast), prompt embeddings [B, L, D]) →
/// the model's prediction (noise or v) [B, C_out, H, W].
/// </summary>
internal sealed class UNet2DConditionModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly UNet2DConditionConfig _config;

    // Field names are the diffusers parameter names, and the declaration order is diffusers' registration order (up
    // blocks before the mid block; attentions before resnets inside blocks), so named_parameters() lists the names in
    // the reference's order too.
    private readonly TorchSharp.Modules.Conv2d conv_in;
    private readonly TimestepEmbedding time_embedding;
    private readonly TorchSharp.Modules.ModuleList<DownBlock2D> down_blocks;
    private readonly TorchSharp.Modules.ModuleList<UpBlock2D> up_blocks;
    private readonly UNetMidBlock2DCrossAttn mid_block;
    private readonly TorchSharp.Modules.GroupNorm conv_norm_out;
    private readonly TorchSharp.Modules.Conv2d conv_out;

    /// <summary>Builds the UNet with freshly initialised parameters.</summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="layers">Device and dtype of the parameters (default: CPU, float32); <see cref="LayerFactory.Meta"/> builds shapes only.</param>
    public UNet2DConditionModel(UNet2DConditionConfig config, LayerFactory? layers = null) : base(nameof(UNet2DConditionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _config = config;
        layers ??= LayerFactory.Default;
        var c = config;
        int n = c.NumBlocks, groups = c.NormNumGroups, temb = c.TimeEmbedDim;
        TransformerSettings Attn(int block) => new(c.HeadsAt(block), c.TransformerLayersPerBlock.At(block), c.CrossAttentionDim, c.UseLinearProjection, c.UpcastAttention);

        conv_in = layers.Conv2d(c.InChannels, c.BlockOutChannels[0], 3, padding: 1);
        time_embedding = new TimestepEmbedding(layers, c.BlockOutChannels[0], temb);

        var down = new DownBlock2D[n];
        int output = c.BlockOutChannels[0];
        for (int i = 0; i < n; i++)
        {
            int input = output;
            output = c.BlockOutChannels[i];
            bool cross = c.DownBlockTypes[i] == UNet2DConditionConfig.CrossAttnDownBlock;
            down[i] = new DownBlock2D(layers, input, output, temb, c.LayersPerBlock.At(i), groups, c.NormEps,
                addDownsample: i < n - 1, c.DownsamplePadding, cross ? Attn(i) : null);
        }
        down_blocks = nn.ModuleList(down);

        mid_block = new UNetMidBlock2DCrossAttn(layers, c.BlockOutChannels[n - 1], temb, groups, c.NormEps, c.MidBlockScaleFactor, Attn(n - 1));

        // diffusers walks the levels in reverse; block i of the up path mirrors down block n-1-i.
        var up = new UpBlock2D[n];
        output = c.BlockOutChannels[n - 1];
        for (int i = 0; i < n; i++)
        {
            int mirror = n - 1 - i;
            int prevOutput = output;
            output = c.BlockOutChannels[mirror];
            int input = c.BlockOutChannels[Math.Max(mirror - 1, 0)];
            bool cross = c.UpBlockTypes[i] == UNet2DConditionConfig.CrossAttnUpBlock;
            up[i] = new UpBlock2D(layers, input, output, prevOutput, temb, c.LayersPerBlock.At(mirror) + 1, groups, c.NormEps,
                addUpsample: i < n - 1, cross ? Attn(mirror) : null);
        }
        up_blocks = nn.ModuleList(up);

        conv_norm_out = layers.GroupNorm(groups, c.BlockOutChannels[0], c.NormEps);
        conv_out = layers.Conv2d(c.BlockOutChannels[0], c.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public UNet2DConditionConfig Config => _config;

    /// <summary>The down blocks (exposed for LoRA and inspection).</summary>
    public IReadOnlyList<DownBlock2D> DownBlocks => down_blocks.ToList();

    /// <summary>The mid block.</summary>
    public UNetMidBlock2DCrossAttn MidBlock => mid_block;

    /// <summary>The up blocks.</summary>
    public IReadOnlyList<UpBlock2D> UpBlocks => up_blocks.ToList();

    /// <summary>Predicts from noisy latents.</summary>
    /// <param name="sample">Noisy latents [B, in_channels, H, W]; any H, W ≥ 1 (sizes that are not multiples of 2^(blocks−1) use size-matched upsampling, as in diffusers).</param>
    /// <param name="timesteps">Timesteps [B], [1] or a scalar; int64 or floating point.</param>
    /// <param name="encoderHiddenStates">Prompt embeddings [B, L, cross_attention_dim].</param>
    /// <returns>[B, out_channels, H, W] in the dtype of <paramref name="sample"/>.</returns>
    public override Tensor forward(Tensor sample, Tensor timesteps, Tensor encoderHiddenStates)
    {
        CheckInputs(sample, timesteps, encoderHiddenStates);
        using var scope = NewDisposeScope();
        var c = _config;
        long batch = sample.shape[0];
        long overall = 1L << c.NumUpsamplers;
        bool forwardUpsampleSize = sample.shape[2] % overall != 0 || sample.shape[3] % overall != 0;

        if (c.CenterInputSample) sample = 2 * sample - 1.0;

        var t = timesteps.dim() == 0 ? timesteps.unsqueeze(0) : timesteps;
        t = t.to(sample.device).expand(batch);
        var tEmb = Timesteps.Embed(t, c.BlockOutChannels[0], c.FlipSinToCos, c.FreqShift).to_type(sample.dtype);
        var emb = time_embedding.call(tEmb);

        var h = conv_in.call(sample);
        var skips = new List<Tensor> { h };
        foreach (var block in down_blocks)
        {
            var (output, states) = block.Forward(h, emb, block.HasCrossAttention ? encoderHiddenStates : null);
            h = output;
            skips.AddRange(states);
        }

        h = mid_block.call(h, emb, encoderHiddenStates);

        for (int i = 0; i < up_blocks.Count; i++)
        {
            var block = up_blocks[i];
            int take = block.NumResnets;
            var levelSkips = skips.GetRange(skips.Count - take, take);
            skips.RemoveRange(skips.Count - take, take);
            long[]? upsampleSize = null;
            // The next level's skip connection fixes the size to upsample to when halving rounded up on the way down.
            if (i < up_blocks.Count - 1 && forwardUpsampleSize)
                upsampleSize = [skips[^1].shape[2], skips[^1].shape[3]];
            h = block.Forward(h, levelSkips, emb, block.HasCrossAttention ? encoderHiddenStates : null, upsampleSize);
        }

        h = nn.functional.silu(conv_norm_out.call(h));
        return conv_out.call(h).MoveToOuterDisposeScope();
    }

    private void CheckInputs(Tensor sample, Tensor timesteps, Tensor encoderHiddenStates)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(timesteps);
        ArgumentNullException.ThrowIfNull(encoderHiddenStates);
        var c = _config;
        if (sample.dim() != 4 || sample.shape[1] != c.InChannels)
            throw new ArgumentException($"The UNet's sample must be [batch, {c.InChannels}, height, width] (in_channels = {c.InChannels}), got [{string.Join(", ", sample.shape)}].", nameof(sample));
        if (!sample.is_floating_point())
            throw new ArgumentException($"The UNet's sample must be floating point, got {sample.dtype}.", nameof(sample));
        long batch = sample.shape[0];
        if (timesteps.dim() > 1 || (timesteps.dim() == 1 && timesteps.shape[0] != batch && timesteps.shape[0] != 1))
            throw new ArgumentException($"The timesteps must be [batch = {batch}], [1] or a scalar, got [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        if (encoderHiddenStates.dim() != 3 || encoderHiddenStates.shape[0] != batch || encoderHiddenStates.shape[2] != c.CrossAttentionDim)
            throw new ArgumentException(
                $"The prompt embeddings must be [batch = {batch}, tokens, cross_attention_dim = {c.CrossAttentionDim}], got [{string.Join(", ", encoderHiddenStates.shape)}].",
                nameof(encoderHiddenStates));
    }
}
