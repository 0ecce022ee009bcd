namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>How images are sampled from a diffusion model: DDIM steps, guidance, η and batch size.</summary>
/// <remarks>
/// The settings of the sampler alone; <see cref="GeneratorOptions"/> holds the generator transformer's column names and
/// seeds around them.
/// </remarks>
public sealed record SamplingOptions
{
    /// <summary>DDIM steps (default 20).</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale: 1 is plain conditional sampling, larger follows the prompt harder.</summary>
    public double GuidanceScale { get; init; } = 2.0;

    /// <summary>DDIM η: 0 is deterministic given the initial noise, 1 is the stochastic policy used for RL.</summary>
    public double Eta { get; init; }

    /// <summary>Images per network batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "At least one sampling step is needed.");
        // NaN and infinite settings used to pass (NaN < 0 is false) and generate black images; 100 is far above any useful guidance.
        if (!(GuidanceScale >= 0 && GuidanceScale <= 100)) throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale, "The guidance scale must lie in [0, 100].");
        if (!(Eta >= 0 && double.IsFinite(Eta))) throw new ArgumentOutOfRangeException(nameof(Eta), Eta, "η must be a non-negative number.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be positive.");
    }
}
