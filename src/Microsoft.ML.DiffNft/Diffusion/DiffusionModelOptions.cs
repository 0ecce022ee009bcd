using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>Everything that defines a diffusion model apart from its weights and vocabulary.</summary>
internal sealed record DiffusionModelOptions
{
    /// <summary>The UNet and prompt-encoder architecture.</summary>
    public UNetOptions UNet { get; init; } = UNetOptions.For(DiffusionPreset.Small);

    /// <summary>The noise schedule shape.</summary>
    public NoiseScheduleKind Schedule { get; init; } = NoiseScheduleKind.Linear;

    /// <summary>Training timesteps T.</summary>
    public int Timesteps { get; init; } = 1000;

    /// <summary>What the network predicts (v by default).</summary>
    public PredictionType Prediction { get; init; } = PredictionType.V;

    /// <summary>
    /// The VAE of a latent model (its <c>sample_size</c> is the image side, its <c>scaling_factor</c> measured on the
    /// training images); null for a pixel model. Left out of the file when null, so pixel models' files are unchanged.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AutoencoderKLConfig? Vae { get; init; }

    /// <summary>Creates the schedule these options describe.</summary>
    public NoiseSchedule CreateSchedule() => new(Schedule, Timesteps);

    /// <summary>
    /// Checks the UNet and, for a latent model, the VAE and that the two fit together; throws an
    /// <see cref="ArgumentException"/> naming the first problem (a model file's options are checked before anything is allocated).
    /// </summary>
    public void Validate()
    {
        UNet.Validate();
        if (Vae is null) return;
        try
        {
            Vae.Validate();
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException)
        {
            throw new ArgumentException($"The VAE: {ex.Message}", ex);
        }
        // The same bounds as LatentOptions: a corrupted file must not allocate gigabytes before the shape checks.
        if (Vae.BlockOutChannels.Count > 5 || Vae.BlockOutChannels.Any(c => c > 1024) || Vae.LayersPerBlock > 8 || Vae.SampleSize > 4096)
            throw new ArgumentException("The VAE is outside the supported range (≤ 5 levels, ≤ 1024 channels, ≤ 8 layers per block, images ≤ 4096 px).");
        if (Vae.InChannels != 3 || Vae.OutChannels != 3)
            throw new ArgumentException($"The VAE must encode and decode RGB images; it has {Vae.InChannels} input and {Vae.OutChannels} output channels.");
        if (UNet.ImageChannels != Vae.LatentChannels || UNet.ImageSize * Vae.DownscaleFactor != Vae.SampleSize)
            throw new ArgumentException(
                $"The UNet ({UNet.ImageChannels} × {UNet.ImageSize}×{UNet.ImageSize}) does not denoise the VAE's latents " +
                $"({Vae.LatentChannels} × {Vae.SampleSize / Vae.DownscaleFactor}×{Vae.SampleSize / Vae.DownscaleFactor} for {Vae.SampleSize}×{Vae.SampleSize} images).");
    }
}
