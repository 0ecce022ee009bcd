using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>DiagonalGaussianDistribution</c>: the VAE posterior, from moments [B, 2C, h, w] split into mean and
/// log-variance along channels; the log-variance is clamped to [−30, 20] before std = exp(logvar / 2), var = exp(logvar).
/// Owns its tensors: dispose it (or move them out) when done.
/// </summary>
internal sealed class DiagonalGaussianDistribution : IDisposable
{
    /// <summary>Splits <paramref name="moments"/> (not taken over; the distribution holds its own tensors).</summary>
    /// <param name="moments">[B, 2C, h, w].</param>
    public DiagonalGaussianDistribution(Tensor moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        if (moments.dim() < 2 || moments.shape[1] % 2 != 0)
            throw new ArgumentException($"VAE moments must have an even channel count (mean and log-variance), got shape [{string.Join(", ", moments.shape)}].", nameof(moments));
        using var scope = NewDisposeScope();
        var parts = moments.chunk(2, 1);
        Mean = parts[0].MoveToOuterDisposeScope();
        LogVar = clamp(parts[1], -30.0, 20.0).MoveToOuterDisposeScope();
        Std = exp(0.5 * LogVar).MoveToOuterDisposeScope();
        Var = exp(LogVar).MoveToOuterDisposeScope();
    }

    /// <summary>The mean [B, C, h, w] (also the mode).</summary>
    public Tensor Mean { get; }

    /// <summary>The clamped log-variance.</summary>
    public Tensor LogVar { get; }

    /// <summary>exp(logvar / 2).</summary>
    public Tensor Std { get; }

    /// <summary>exp(logvar).</summary>
    public Tensor Var { get; }

    /// <summary>The mode (the mean), as a new handle the caller owns.</summary>
    public Tensor Mode() => Mean.alias();

    /// <summary>mean + std · ε with ε ~ N(0, I) drawn from <paramref name="generator"/> (or the global generator).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return (Mean + Std * noise).MoveToOuterDisposeScope();
    }

    /// <summary>KL divergence to N(0, I), summed over channels and pixels: [B].</summary>
    public Tensor Kl()
    {
        using var scope = NewDisposeScope();
        return (0.5 * (Mean.pow(2) + Var - 1.0 - LogVar).sum(new long[] { 1, 2, 3 })).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
        Var.Dispose();
    }
}
