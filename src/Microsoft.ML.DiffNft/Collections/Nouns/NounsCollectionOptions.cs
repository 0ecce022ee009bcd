namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Options of <see cref="NounsCollectionGenerator"/>: how many tokens, which parts, how each layer is weighted, which
/// part pairs are incompatible or forced, and whether every token must be unique — the knobs HashLips users know,
/// applied to the CC0 Nouns parts.
/// </summary>
public sealed class NounsCollectionOptions
{
    /// <summary>Number of tokens (ids 0 … Count − 1). Default 1,000.</summary>
    public int Count { get; set; } = 1000;

    /// <summary>Seed of the random generator; the same options and seed give the same collection. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Which parts take part: the first k of each layer (default: all).</summary>
    internal NounsSubset Parts { get; set; } = NounsSubset.All;

    /// <summary>The distribution used for every layer without its own entry in <see cref="LayerWeights"/>. Default uniform.</summary>
    public NounsLayerWeights Weights { get; set; } = NounsLayerWeights.Uniform;

    /// <summary>Per-layer distributions that override <see cref="Weights"/>.</summary>
    internal IDictionary<NounsLayer, NounsLayerWeights> LayerWeights { get; } = new Dictionary<NounsLayer, NounsLayerWeights>();

    /// <summary>Part pairs that never appear together in one token.</summary>
    internal IList<NounsPartPair> IncompatiblePairs { get; } = new List<NounsPartPair>();

    /// <summary>"If First then Second" rules: a token that draws the first part gets the second one.</summary>
    internal IList<NounsPartPair> ForcedPairs { get; } = new List<NounsPartPair>();

    /// <summary>No two tokens share the same five parts (default true).</summary>
    public bool UniqueDna { get; set; } = true;

    /// <summary>Render each token's 32×32 image into <see cref="NftToken.Image"/> (default true).</summary>
    public bool RenderImages { get; set; } = true;

    /// <summary>
    /// Enlarge each rendered image by this integer factor with nearest-neighbour sampling (default 1: 32×32; 4 gives
    /// 128×128 with every art pixel a 4×4 block, so the art is unchanged and a 4× downsampling recovers it exactly).
    /// At most <see cref="MaxImageScale"/>.
    /// </summary>
    public int ImageScale { get; set; } = 1;

    /// <summary>The largest <see cref="ImageScale"/>: 32 (1,024×1,024 images).</summary>
    public const int MaxImageScale = 32;

    /// <summary>The part library; the built-in Nouns art when null.</summary>
    internal NounsArt? Art { get; set; }

    /// <summary>Prefix of token names: "Noun " gives "Noun 0", "Noun 1", …</summary>
    public string NamePrefix { get; set; } = "Noun ";

    /// <summary>
    /// How many consecutive draws one token may reject (duplicate or rule-breaking) before the generator gives up with
    /// an explanation, or — when the combination space is small enough — switches to drawing from the list of the
    /// combinations still unused. Default 10,000.
    /// </summary>
    public int MaxAttemptsPerToken { get; set; } = 10_000;

    /// <summary>The distribution of one layer (its override, else <see cref="Weights"/>).</summary>
    internal NounsLayerWeights WeightsFor(NounsLayer layer) =>
        LayerWeights.TryGetValue(layer, out var w) && w is not null ? w : Weights;
}
