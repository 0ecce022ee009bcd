namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>What <see cref="NounsTraitDecoder"/> recovered from one image: a part per layer and how well each fits.</summary>
internal sealed class NounsDecodedTraits
{
    private readonly double[] _distances;
    private readonly int[] _visible;
    private readonly bool[] _ambiguous;

    internal NounsDecodedTraits(NounSeed seed, NounsArt art, double[] distances, int[] visible, bool[] ambiguous, int mismatchedPixels, double threshold)
    {
        _visible = visible;
        _ambiguous = ambiguous;
        MismatchedPixels = mismatchedPixels;
        Seed = seed;
        Attributes = NounsMetadata.Attributes(seed, art);
        Caption = NounsMetadata.Caption(seed, art);
        _distances = distances;
        MaxDistance = distances.Max();
        IsDecodable = MaxDistance <= threshold;
    }

    /// <summary>The decoded part indices.</summary>
    public NounSeed Seed { get; }

    /// <summary>The decoded traits as they appear in generated metadata (<c>Background</c> … <c>Glasses</c>).</summary>
    public IReadOnlyList<NftAttribute> Attributes { get; }

    /// <summary>The caption of the decoded traits (same format as generated tokens).</summary>
    public string Caption { get; }

    /// <summary>The trait value decoded for a layer (for example <c>goat</c>).</summary>
    public string Value(NounsLayer layer) => Attributes[(int)layer].Value;

    /// <summary>
    /// Mean absolute per-channel difference in [0, 1] between the image and the decoded part over the pixels that part
    /// explains (for the background: every pixel no part covers); 0 when the part explains no pixel.
    /// </summary>
    public double Distance(NounsLayer layer) => _distances[(int)layer];

    /// <summary>How many pixels of the decoded part are visible in the image (0: hidden by the layers above, or empty).</summary>
    public int VisiblePixels(NounsLayer layer) => _visible[(int)layer];

    /// <summary>
    /// True when another part of this layer explains the image exactly as well (same mismatches, same colour
    /// difference) — typically a body fully covered by a full-body accessory. The decoded part is then one valid answer
    /// among several, and rendering the decoded seed still reproduces the image.
    /// </summary>
    public bool IsAmbiguous(NounsLayer layer) => _ambiguous[(int)layer];

    /// <summary>Pixels of the image that the decoded seed's rendering does not match within the colour tolerance.</summary>
    public int MismatchedPixels { get; }

    /// <summary>How many partial decodings the search expanded (a measure of how hard the image was).</summary>
    public int SearchNodes { get; init; }

    /// <summary>
    /// True when the search finished within <see cref="NounsDecoderOptions.MaxSearchNodes"/>, so the decoding is the best
    /// possible one; false when it stopped early (typically on images that are not Nouns) and returned the best found.
    /// </summary>
    public bool SearchCompleted { get; init; }

    /// <summary>The largest per-layer distance.</summary>
    public double MaxDistance { get; }

    /// <summary>True when <see cref="MaxDistance"/> is within the decoder's threshold.</summary>
    public bool IsDecodable { get; }
}
