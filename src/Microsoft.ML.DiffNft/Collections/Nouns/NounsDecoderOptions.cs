namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>Options of <see cref="NounsTraitDecoder"/>.</summary>
internal sealed class NounsDecoderOptions
{
    /// <summary>
    /// A pixel matches a part's colour when no channel differs by more than this (0–255). The default, 40, sits far above
    /// mild noise (σ = 8 gives |Δ| > 40 once in ~1.7 million channels) yet below the gap between most palette colours;
    /// close colours are still told apart by the summed difference used as a tie-break.
    /// </summary>
    public int Tolerance { get; set; } = 40;

    /// <summary>
    /// How many partial decodings (a choice of parts for the top layers) the search may expand once it has a complete
    /// decoding. Rendered Nouns need about 15 on average and 150 at most (a hidden body makes all 30 bodies tie); noisy
    /// ones about the same. The limit bites on images that are not Nouns at all, where it bounds the time spent: the
    /// answer is then the best decoding found (see <see cref="NounsDecodedTraits.SearchCompleted"/>). Default 300.
    /// </summary>
    public int MaxSearchNodes { get; set; } = 300;

    /// <summary>
    /// An image is decodable when every layer's distance (mean absolute per-channel difference in [0, 1] between the
    /// image and the decoded part over the pixels that part explains) is at most this. Default 0.08: an exactly
    /// rendered Noun scores 0, Gaussian noise of σ = 8/255 about 0.025, an unrelated image about 0.3.
    /// </summary>
    public double DistanceThreshold { get; set; } = 0.08;

    /// <summary>The candidate parts (for example the generator's subset); all parts when null.</summary>
    public NounsSubset? Candidates { get; set; }

    internal void Validate()
    {
        if (Tolerance is < 0 or > 255)
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The colour tolerance must be between 0 and 255.");
        if (MaxSearchNodes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxSearchNodes), MaxSearchNodes, "The search budget must be at least 1 node.");
        if (!(DistanceThreshold >= 0) || DistanceThreshold > 1)
            throw new ArgumentOutOfRangeException(nameof(DistanceThreshold), DistanceThreshold, "The distance threshold must be between 0 and 1.");
    }
}
