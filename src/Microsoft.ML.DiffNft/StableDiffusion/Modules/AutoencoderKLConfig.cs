using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// The architecture of an <see cref="AutoencoderKL"/>: the keys of a diffusers <c>vae/config.json</c>, with diffusers
/// v0.21.4's constructor defaults.
/// </summary>
internal sealed record AutoencoderKLConfig
{
    /// <summary>The only supported encoder block type.</summary>
    public const string DownEncoderBlock = "DownEncoderBlock2D";

    /// <summary>The only supported decoder block type.</summary>
    public const string UpDecoderBlock = "UpDecoderBlock2D";

    /// <summary>Where the config came from, for messages.</summary>
    public string Source { get; init; } = "AutoencoderKLConfig (built in code)";

    /// <summary><c>in_channels</c>: image channels (default 3).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary><c>out_channels</c>: decoded image channels (default 3).</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary><c>down_block_types</c> (default one <c>DownEncoderBlock2D</c>).</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = [DownEncoderBlock];

    /// <summary><c>up_block_types</c> (default one <c>UpDecoderBlock2D</c>).</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = [UpDecoderBlock];

    /// <summary><c>block_out_channels</c> (default 64).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [64];

    /// <summary><c>layers_per_block</c>: resnets per encoder level; decoder levels have one more (default 1).</summary>
    public int LayersPerBlock { get; init; } = 1;

    /// <summary><c>act_fn</c> (default and only supported value "silu").</summary>
    public string ActFn { get; init; } = "silu";

    /// <summary><c>latent_channels</c> (default 4).</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary><c>norm_num_groups</c> (default 32).</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary><c>sample_size</c>: the image size it was trained at (informational; default 32).</summary>
    public int SampleSize { get; init; } = 32;

    /// <summary><c>scaling_factor</c>: latents are multiplied by this before the UNet sees them (default 0.18215).</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary><c>force_upcast</c>: the pipeline should run this VAE in float32 (default true).</summary>
    public bool ForceUpcast { get; init; } = true;

    /// <summary>Keys of the file that are not diffusers v0.21.4 VAE options and were ignored.</summary>
    public IReadOnlyList<string> IgnoredKeys { get; init; } = [];

    /// <summary>Spatial down-scaling factor between images and latents: 2^(levels − 1).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int DownscaleFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>The tiny VAE of diffusers' own pipeline tests (tests/data/stable-diffusion/tiny/vae/config.json): block channels (32, 64), 4 latent channels.</summary>
    public static AutoencoderKLConfig Tiny => new()
    {
        BlockOutChannels = [32, 64],
        DownBlockTypes = [DownEncoderBlock, DownEncoderBlock],
        UpBlockTypes = [UpDecoderBlock, UpDecoderBlock],
        LatentChannels = 4,
        LayersPerBlock = 1,
        SampleSize = 32,
        Source = "tiny VAE (diffusers' pipeline tests, built in code)",
    };

    /// <summary>The SD 1.x/2.x VAE (runwayml/stable-diffusion-v1-5 <c>vae/config.json</c>).</summary>
    public static AutoencoderKLConfig StableDiffusion => new()
    {
        DownBlockTypes = [DownEncoderBlock, DownEncoderBlock, DownEncoderBlock, DownEncoderBlock],
        UpBlockTypes = [UpDecoderBlock, UpDecoderBlock, UpDecoderBlock, UpDecoderBlock],
        BlockOutChannels = [128, 256, 512, 512],
        LayersPerBlock = 2,
        SampleSize = 512,
        Source = "SD VAE (built in code)",
    };

    /// <summary>Reads and validates a diffusers VAE <c>config.json</c>.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="source">The file's path, for messages.</param>
    /// <exception cref="NotSupportedException">An option these modules do not implement (names the key, value and file).</exception>
    /// <exception cref="InvalidDataException">Malformed or inconsistent values (names the key and file).</exception>
    public static AutoencoderKLConfig FromJson(string json, string source = "vae/config.json")
    {
        var j = new DiffusersConfigJson(json, source);
        var d = new AutoencoderKLConfig();
        // Later diffusers versions' switches; only their defaults match the v0.21.4 architecture and latent scaling.
        j.RequireBool("use_quant_conv", true);
        j.RequireBool("use_post_quant_conv", true);
        j.RequireBool("mid_block_add_attention", true);
        j.RequireNull("shift_factor");
        j.RequireNull("latents_mean");
        j.RequireNull("latents_std");
        int sampleSize = d.SampleSize;
        var sizes = j.PerBlock("sample_size", null);
        if (sizes is not null)
        {
            if (!sizes.IsScalar && (sizes.Values.Count != 2 || sizes.Values[0] != sizes.Values[1]))
                throw new NotSupportedException($"{source}: 'sample_size' = {sizes} is not supported; give one size (square images).");
            sampleSize = sizes.Values[0];
        }
        var config = new AutoencoderKLConfig
        {
            Source = source,
            InChannels = j.Int("in_channels", d.InChannels),
            OutChannels = j.Int("out_channels", d.OutChannels),
            DownBlockTypes = j.Strings("down_block_types", [.. d.DownBlockTypes]),
            UpBlockTypes = j.Strings("up_block_types", [.. d.UpBlockTypes]),
            BlockOutChannels = j.Ints("block_out_channels", [.. d.BlockOutChannels]),
            LayersPerBlock = j.Int("layers_per_block", d.LayersPerBlock),
            ActFn = j.String("act_fn", d.ActFn) ?? "null",
            LatentChannels = j.Int("latent_channels", d.LatentChannels),
            NormNumGroups = j.Int("norm_num_groups", d.NormNumGroups),
            SampleSize = sampleSize,
            ScalingFactor = j.Double("scaling_factor", d.ScalingFactor),
            ForceUpcast = j.Bool("force_upcast", d.ForceUpcast),
        };
        config = config with { IgnoredKeys = j.UnreadKeys };
        config.Validate();
        return config;
    }

    /// <summary>Reads and validates a diffusers VAE <c>config.json</c> file.</summary>
    public static AutoencoderKLConfig FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Checks the configuration can be built; messages name the key and <see cref="Source"/>.</summary>
    /// <exception cref="NotSupportedException">An unsupported block type or activation.</exception>
    /// <exception cref="InvalidDataException">An invalid or inconsistent value.</exception>
    public void Validate()
    {
        string s = Source;
        if (ActFn is not ("silu" or "swish"))
            throw new NotSupportedException($"{s}: 'act_fn' = \"{ActFn}\" is not supported; these modules implement \"silu\".");
        foreach (var (key, value) in new[] { ("in_channels", InChannels), ("out_channels", OutChannels), ("latent_channels", LatentChannels),
                     ("layers_per_block", LayersPerBlock), ("norm_num_groups", NormNumGroups), ("sample_size", SampleSize) })
            if (value <= 0) throw new InvalidDataException($"{s}: '{key}' must be positive, got {value}.");
        if (!(ScalingFactor > 0)) throw new InvalidDataException($"{s}: 'scaling_factor' must be positive, got {ScalingFactor}.");
        int n = BlockOutChannels.Count;
        if (n == 0) throw new InvalidDataException($"{s}: 'block_out_channels' is empty.");
        if (DownBlockTypes.Count != n)
            throw new InvalidDataException($"{s}: 'down_block_types' has {DownBlockTypes.Count} entries but 'block_out_channels' has {n}; they must match.");
        if (UpBlockTypes.Count != n)
            throw new InvalidDataException($"{s}: 'up_block_types' has {UpBlockTypes.Count} entries but 'block_out_channels' has {n}; they must match.");
        foreach (var t in DownBlockTypes)
            if (t != DownEncoderBlock)
                throw new NotSupportedException($"{s}: 'down_block_types' contains \"{t}\", which is not supported; these modules implement \"{DownEncoderBlock}\".");
        foreach (var t in UpBlockTypes)
            if (t != UpDecoderBlock)
                throw new NotSupportedException($"{s}: 'up_block_types' contains \"{t}\", which is not supported; these modules implement \"{UpDecoderBlock}\".");
        foreach (int c in BlockOutChannels)
        {
            if (c <= 0) throw new InvalidDataException($"{s}: 'block_out_channels' must be positive, got [{string.Join(", ", BlockOutChannels)}].");
            if (c % NormNumGroups != 0)
                throw new InvalidDataException($"{s}: 'block_out_channels' entry {c} is not divisible by 'norm_num_groups' = {NormNumGroups}.");
        }
    }
}
