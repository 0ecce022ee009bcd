using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// The built-in collection: 4,000 CC0 Nouns, seed 1, every layer Zipf-weighted with exponent 1, drawn from the first 6
/// bodies, 10 accessories, 12 heads and 8 glasses (all backgrounds). It is what <c>diffnft quickstart</c> renders and what
/// the bundled base and reward models (<c>models/builtin/</c>) were trained on; the same collection as
/// <c>diffnft collection nouns --count 4000 --seed 1 --weights zipf:1.0 --parts bodies=6,accessories=10,heads=12,glasses=8</c>.
/// </summary>
/// <remarks>
/// The part subset is small enough for a CPU-sized model to learn every part, and the Zipf weights make rarity real: the
/// tenth accessory is ten times rarer than the first, so a rare token is one with late parts.
/// </remarks>
public static class BuiltInCollection
{
    /// <summary>Number of tokens (ids 0 … 3,999).</summary>
    public const int Count = 4000;

    /// <summary>Seed of the generator.</summary>
    public const int Seed = 1;

    /// <summary>The distribution of every layer, in the form <see cref="NounsLayerWeights.Parse"/> reads.</summary>
    public const string Weights = "zipf:1.0";

    /// <summary>The part subset, in the form <see cref="NounsSubset.Parse"/> reads.</summary>
    public const string Parts = "bodies=6,accessories=10,heads=12,glasses=8";

    /// <summary>The prompt that names no trait: the subject of every caption of the collection.</summary>
    public const string Prompt = "a noun";

    /// <summary>The <c>diffnft</c> command line that writes the same collection to <paramref name="outputDirectory"/>.</summary>
    /// <param name="outputDirectory">The folder named by <c>--out</c>.</param>
    public static string CommandLine(string outputDirectory) =>
        string.Create(CultureInfo.InvariantCulture,
            $"diffnft collection nouns --count {Count} --seed {Seed} --weights {Weights} --parts {Parts} --out {outputDirectory}");

    /// <summary>A new options object describing the built-in collection (callers may change their copy).</summary>
    public static NounsCollectionOptions CreateOptions() => new()
    {
        Count = Count,
        Seed = Seed,
        Weights = NounsLayerWeights.Parse(Weights),
        Parts = NounsSubset.Parse(Parts),
    };

    /// <summary>Generates the built-in collection (images rendered).</summary>
    /// <param name="cancellationToken">Stops between tokens.</param>
    public static NftCollection Generate(CancellationToken cancellationToken = default) =>
        GenerateDetailed(cancellationToken).Collection;

    /// <summary>The built-in collection with its seeds and the combinations possible.</summary>
    internal static NounsGeneratedCollection GenerateDetailed(CancellationToken cancellationToken = default) =>
        NounsCollectionGenerator.GenerateDetailed(CreateOptions(), cancellationToken);

    /// <summary>
    /// A canonical text of everything in <paramref name="options"/> that decides which collection is generated (count,
    /// seed, parts, weights, rules, name prefix), so two options objects that make the same collection describe the same.
    /// A custom <see cref="NounsCollectionOptions.Art"/> is described by its part counts only.
    /// </summary>
    /// <param name="options">The options to describe.</param>
    public static string Describe(NounsCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"count={options.Count};seed={options.Seed};parts={options.Parts};weights={DescribeWeights(options.Weights)}");
        foreach (var (layer, w) in options.LayerWeights.OrderBy(kv => kv.Key))
            sb.Append(CultureInfo.InvariantCulture, $";{layer}={DescribeWeights(w)}");
        foreach (var p in options.IncompatiblePairs) sb.Append(CultureInfo.InvariantCulture, $";never={p.First}+{p.Second}");
        foreach (var p in options.ForcedPairs) sb.Append(CultureInfo.InvariantCulture, $";force={p.First}->{p.Second}");
        sb.Append(CultureInfo.InvariantCulture, $";unique={options.UniqueDna};render={options.RenderImages};prefix={options.NamePrefix}");
        if (options.Art is { } art)
            sb.Append(";art=").Append(art.Source).Append(':').AppendJoin(',', Enum.GetValues<NounsLayer>().Select(l => art.PartCount(l).ToString(CultureInfo.InvariantCulture)));
        return sb.ToString();
    }

    /// <summary>True when <paramref name="options"/> make exactly the built-in collection.</summary>
    /// <param name="options">The options to compare.</param>
    public static bool IsBuiltIn(NounsCollectionOptions options) => Describe(options) == Describe(CreateOptions());

    // ToString abbreviates explicit weights and exact counts; the description needs every number.
    private static string DescribeWeights(NounsLayerWeights? w) => w switch
    {
        null => "uniform",
        { Kind: NounsWeighting.Explicit } => "explicit:" + string.Join('|', w.Weights!.Select(x => x.ToString("R", CultureInfo.InvariantCulture))),
        { Kind: NounsWeighting.ExactCounts } => "counts:" + string.Join('|', w.Counts!.Select(x => x.ToString(CultureInfo.InvariantCulture))),
        _ => w.ToString(),
    };
}
