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

    /// <summary>Creates the schedule these options describe.</summary>
    public NoiseSchedule CreateSchedule() => new(Schedule, Timesteps);
}
