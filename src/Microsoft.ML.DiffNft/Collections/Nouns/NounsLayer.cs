namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>The five layers of a Noun, in draw order (back to front).</summary>
internal enum NounsLayer
{
    /// <summary>The solid background colour (drawn first).</summary>
    Background = 0,
    /// <summary>The body.</summary>
    Body = 1,
    /// <summary>The accessory drawn over the body (one accessory, <c>accessory-none</c>, is empty).</summary>
    Accessory = 2,
    /// <summary>The head.</summary>
    Head = 3,
    /// <summary>The glasses (drawn last, on top).</summary>
    Glasses = 4,
}

/// <summary>Names and helpers for <see cref="NounsLayer"/>.</summary>
internal static class NounsLayers
{
    /// <summary>Number of layers.</summary>
    public const int Count = 5;

    /// <summary>Every layer in draw order (back to front).</summary>
    public static IReadOnlyList<NounsLayer> DrawOrder { get; } =
        [NounsLayer.Background, NounsLayer.Body, NounsLayer.Accessory, NounsLayer.Head, NounsLayer.Glasses];

    /// <summary>
    /// The OpenSea <c>trait_type</c> of a layer: <c>Background</c>, <c>Body</c>, <c>Accessory</c>, <c>Head</c>, <c>Glasses</c>.
    /// </summary>
    public static string TraitType(NounsLayer layer) => layer switch
    {
        NounsLayer.Background => "Background",
        NounsLayer.Body => "Body",
        NounsLayer.Accessory => "Accessory",
        NounsLayer.Head => "Head",
        NounsLayer.Glasses => "Glasses",
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "Not a Nouns layer."),
    };

    /// <summary>The plural name used by <c>image-data.json</c> and by part-count specifications (<c>bodies</c>, <c>heads</c>, …).</summary>
    public static string PluralName(NounsLayer layer) => layer switch
    {
        NounsLayer.Background => "backgrounds",
        NounsLayer.Body => "bodies",
        NounsLayer.Accessory => "accessories",
        NounsLayer.Head => "heads",
        NounsLayer.Glasses => "glasses",
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "Not a Nouns layer."),
    };

    /// <summary>
    /// Parses a layer name as users write it: the trait type (<c>Head</c>), the singular (<c>head</c>) or the plural
    /// (<c>heads</c>), case-insensitively. Returns false when the name is not a layer.
    /// </summary>
    public static bool TryParse(string? name, out NounsLayer layer)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "background" or "backgrounds" or "bg": layer = NounsLayer.Background; return true;
            case "body" or "bodies": layer = NounsLayer.Body; return true;
            case "accessory" or "accessories": layer = NounsLayer.Accessory; return true;
            case "head" or "heads": layer = NounsLayer.Head; return true;
            case "glasses": layer = NounsLayer.Glasses; return true;
            default: layer = default; return false;
        }
    }
}
