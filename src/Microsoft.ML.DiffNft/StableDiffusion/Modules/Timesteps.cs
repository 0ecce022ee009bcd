using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion.Modules;

/// <summary>
/// diffusers' <c>get_timestep_embedding</c> (the parameter-free <c>time_proj</c> of the UNet): for frequency index
/// i &lt; half = ⌊dim/2⌋, <c>freq_i = exp(−ln(max_period)·i / (half − downscale_freq_shift))</c>; the embedding is
/// [sin(t·freq), cos(t·freq)], swapped to [cos, sin] when <c>flip_sin_to_cos</c>, zero-padded by one column when dim is odd.
/// Computed in float32 in the same operation order as diffusers.
/// </summary>
internal static class Timesteps
{
    /// <summary>Embeds a batch of timesteps.</summary>
    /// <param name="timesteps">1-D tensor [B] of (possibly fractional) timesteps, any numeric dtype.</param>
    /// <param name="dim">Embedding width.</param>
    /// <param name="flipSinToCos">Put the cosines first.</param>
    /// <param name="downscaleFreqShift">diffusers' <c>downscale_freq_shift</c> (the UNet config's <c>freq_shift</c>).</param>
    /// <param name="maxPeriod">The longest period (10000 in diffusers).</param>
    /// <returns>float32 [B, dim].</returns>
    public static Tensor Embed(Tensor timesteps, int dim, bool flipSinToCos, double downscaleFreqShift, double maxPeriod = 10000)
    {
        ArgumentNullException.ThrowIfNull(timesteps);
        if (timesteps.dim() != 1)
            throw new ArgumentException($"Timesteps must be a 1-D tensor [batch], got shape [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        if (dim <= 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "The timestep embedding needs at least 2 channels.");
        int half = dim / 2;
        if (half - downscaleFreqShift == 0)
            throw new ArgumentException($"freq_shift {downscaleFreqShift} equals half the embedding width ({half}): the frequencies would divide by zero.", nameof(downscaleFreqShift));
        using var scope = NewDisposeScope();
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * (-Math.Log(maxPeriod));
        exponent = exponent / (half - downscaleFreqShift);
        var freqs = exp(exponent);
        var args = timesteps.unsqueeze(1).to_type(ScalarType.Float32) * freqs.unsqueeze(0);
        var emb = cat(new[] { sin(args), cos(args) }, -1);
        if (flipSinToCos) emb = cat(new[] { emb[.., half..], emb[.., ..half] }, -1);
        if (dim % 2 == 1) emb = nn.functional.pad(emb, new long[] { 0, 1, 0, 0 });
        return emb.MoveToOuterDisposeScope();
    }
}
