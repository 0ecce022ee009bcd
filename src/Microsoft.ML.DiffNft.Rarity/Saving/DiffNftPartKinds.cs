using Microsoft.ML.DiffNft.Rarity;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The closed list of part kinds a saved pipeline may hold, and the loader of each. The loaders of the diffusion and
/// reward parts live in Microsoft.ML.DiffNft, which this package cannot reference; they are found by a fixed
/// assembly-qualified name per kind (as <see cref="Imaging.ImageSupport"/> is). The names are constants in code: a type
/// name is never read from a file, so a crafted file cannot make the loader instantiate anything else.
/// </summary>
internal static class DiffNftPartKinds
{
    /// <summary>A run of ML.NET transformers, saved with <c>mlContext.Model.Save</c>.</summary>
    public const string MLNet = "mlnet";

    /// <summary>A <see cref="TraitRarityTransformer"/> (the JSON of <see cref="TraitRarityFile"/>).</summary>
    public const string TraitRarity = "trait-rarity";

    /// <summary>A DiffusionGeneratorTransformer (a model archive with the generator options).</summary>
    public const string DiffusionGenerator = "diffusion-generator";

    /// <summary>A RarityRewardScorerTransformer (a model archive with the scorer options).</summary>
    public const string RarityReward = "rarity-reward";

    // Renaming one of these types breaks loading of saved pipelines: the saving tests load every kind.
    private static readonly Dictionary<string, string> s_loaderTypes = new(StringComparer.Ordinal)
    {
        [DiffusionGenerator] = "Microsoft.ML.DiffNft.Diffusion.DiffusionGeneratorPartLoader, Microsoft.ML.DiffNft",
        [RarityReward] = "Microsoft.ML.DiffNft.Reward.RarityRewardScorerPartLoader, Microsoft.ML.DiffNft",
    };

    // The format field of a stand-alone model archive (diffnft-model.json), for files a transformer's Save(path) wrote.
    private static readonly Dictionary<string, string> s_archiveFormats = new(StringComparer.Ordinal)
    {
        ["diffnft.diffusion"] = DiffusionGenerator,
        ["diffnft.reward"] = RarityReward,
    };

    /// <summary>The kinds this build reads, for error messages.</summary>
    public static IEnumerable<string> All => new[] { MLNet, TraitRarity }.Concat(s_loaderTypes.Keys);

    /// <summary>Whether this build knows <paramref name="kind"/>.</summary>
    public static bool IsKnown(string? kind) => kind is MLNet or TraitRarity || kind is not null && s_loaderTypes.ContainsKey(kind);

    /// <summary>The part kind of a stand-alone model archive whose manifest has this format name, or null.</summary>
    public static string? KindOfArchiveFormat(string? format) =>
        format is not null && s_archiveFormats.TryGetValue(format, out var kind) ? kind : null;

    /// <summary>The loader of a DiffNft kind, or a clear error when its assembly is not deployed.</summary>
    /// <param name="kind">A known kind other than <see cref="MLNet"/>.</param>
    /// <param name="source">The file being loaded, for the message.</param>
    public static IDiffNftPartLoader Loader(string kind, string source)
    {
        if (kind == TraitRarity) return new TraitRarityPartLoader();
        if (!s_loaderTypes.TryGetValue(kind, out var typeName))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a DiffNft part kind.");
        var type = Type.GetType(typeName, throwOnError: false) ?? throw new InvalidOperationException(
            $"Model file '{source}' holds a '{kind}' part, which the Microsoft.ML.DiffNft package loads; this application has " +
            "only Microsoft.ML.DiffNft.Rarity. Reference Microsoft.ML.DiffNft to load it.");
        return (IDiffNftPartLoader)Activator.CreateInstance(type, nonPublic: true)!;
    }
}
