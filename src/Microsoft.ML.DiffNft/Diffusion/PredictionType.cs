namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>What the denoising network predicts.</summary>
public enum PredictionType
{
    /// <summary>
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans and Ho 2022). The default: on CPU budgets it learns pixel art far faster than ε.
    /// </summary>
    V,
    /// <summary>The added noise ε (Ho et al. 2020).</summary>
    Epsilon,
}
