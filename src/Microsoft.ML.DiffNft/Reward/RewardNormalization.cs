namespace Microsoft.ML.DiffNft.Reward;

/// <summary>
/// The constants that fix a rarity reward model's input and output scales, learned from its training split and saved
/// with its weights: per-channel pixel statistics (inputs) and the rarity-score statistics that define the reward's
/// z-score scale (outputs), plus the logit correction that undoes class weighting.
/// </summary>
internal sealed record RewardNormalization
{
    /// <summary>
    /// Mean of each RGB channel over the training images, on the [−1, 1] pixel scale of
    /// <see cref="Imaging.ImageTensors"/>, after resizing to the model's input size.
    /// </summary>
    public float[] PixelMean { get; init; } = { 0f, 0f, 0f };

    /// <summary>Standard deviation of each RGB channel over the training images (same scale as <see cref="PixelMean"/>; floored at 1e-3).</summary>
    public float[] PixelStd { get; init; } = { 1f, 1f, 1f };

    /// <summary>Mean rarity score of the training split (≈ 1 for OpenRarity, whose collection mean is 1 by construction).</summary>
    public double ScoreMean { get; init; }

    /// <summary>Standard deviation of the rarity score over the training split: the unit of the reward.</summary>
    public double ScoreStd { get; init; } = 1;

    /// <summary>
    /// Added to the rare head's raw logit to give calibrated log-odds: −ln(w) for the positive-class weight w used in
    /// training. Weighting the rare class by w shifts the loss-minimising logit by +ln(w); subtracting it again makes
    /// <c>RareProbability</c> estimate the real frequency of rare tokens.
    /// </summary>
    public double RareLogitOffset { get; init; }

    /// <summary>Throws an <see cref="InvalidDataException"/> naming <paramref name="source"/> when a constant is unusable.</summary>
    internal void Validate(string source)
    {
        if (PixelMean is not { Length: 3 } || PixelStd is not { Length: 3 })
            throw new InvalidDataException($"{source}: the pixel normalisation needs 3 means and 3 standard deviations (one per RGB channel).");
        if (PixelMean.Any(v => !float.IsFinite(v)) || PixelStd.Any(v => !(v > 0) || !float.IsFinite(v)))
            throw new InvalidDataException($"{source}: the pixel means must be finite and the standard deviations finite and positive.");
        if (!double.IsFinite(ScoreMean) || !(ScoreStd > 0) || !double.IsFinite(ScoreStd) || !double.IsFinite(RareLogitOffset))
            throw new InvalidDataException($"{source}: ScoreMean and RareLogitOffset must be finite and ScoreStd finite and positive.");
    }
}
