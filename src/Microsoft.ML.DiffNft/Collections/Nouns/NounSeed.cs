using System.Globalization;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// A Noun's seed: one part index per layer, as in the on-chain <c>NounsSeeder</c> (background, body, accessory, head,
/// glasses). Noun 116 is <c>new NounSeed(1, 28, 120, 95, 15)</c> (warm, teal, txt noun multicolor, goat, square red).
/// </summary>
/// <param name="Background">Background index.</param>
/// <param name="Body">Body index.</param>
/// <param name="Accessory">Accessory index.</param>
/// <param name="Head">Head index.</param>
/// <param name="Glasses">Glasses index.</param>
internal readonly record struct NounSeed(int Background, int Body, int Accessory, int Head, int Glasses)
{
    /// <summary>The part index of one layer.</summary>
    public int this[NounsLayer layer] => layer switch
    {
        NounsLayer.Background => Background,
        NounsLayer.Body => Body,
        NounsLayer.Accessory => Accessory,
        NounsLayer.Head => Head,
        NounsLayer.Glasses => Glasses,
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "Not a Nouns layer."),
    };

    /// <summary>Returns a copy with one layer's index replaced.</summary>
    public NounSeed With(NounsLayer layer, int index) => layer switch
    {
        NounsLayer.Background => this with { Background = index },
        NounsLayer.Body => this with { Body = index },
        NounsLayer.Accessory => this with { Accessory = index },
        NounsLayer.Head => this with { Head = index },
        NounsLayer.Glasses => this with { Glasses = index },
        _ => throw new ArgumentOutOfRangeException(nameof(layer), layer, "Not a Nouns layer."),
    };

    /// <summary>Builds a seed from five indices in draw order.</summary>
    public static NounSeed FromIndices(ReadOnlySpan<int> indices)
    {
        if (indices.Length != NounsLayers.Count)
            throw new ArgumentException($"A Noun seed has {NounsLayers.Count} indices (background, body, accessory, head, glasses); got {indices.Length}.", nameof(indices));
        return new NounSeed(indices[0], indices[1], indices[2], indices[3], indices[4]);
    }

    /// <summary>
    /// Checks every index against the art's layer sizes. Throws <see cref="ArgumentException"/> naming the part and its
    /// valid range, for example "Head index 300 is out of range: valid values are 0 to 253."
    /// </summary>
    public void Validate(NounsArt art)
    {
        ArgumentNullException.ThrowIfNull(art);
        foreach (var layer in NounsLayers.DrawOrder)
        {
            int index = this[layer];
            int count = art.PartCount(layer);
            if ((uint)index >= (uint)count)
                throw new ArgumentException(
                    $"{NounsLayers.TraitType(layer)} index {index} is out of range: valid values are 0 to {count - 1} ({count} {NounsLayers.PluralName(layer)}).");
        }
    }

    /// <summary>
    /// Parses <c>background,body,accessory,head,glasses</c> (for example <c>1,28,120,95,15</c>). Throws
    /// <see cref="FormatException"/> naming the offending item.
    /// </summary>
    public static NounSeed Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length != NounsLayers.Count)
            throw new FormatException(
                $"A Noun seed is five comma-separated integers 'background,body,accessory,head,glasses' (for example 1,28,120,95,15); got '{text}'.");
        Span<int> values = stackalloc int[NounsLayers.Count];
        for (int i = 0; i < items.Length; i++)
        {
            if (!int.TryParse(items[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < 0)
                throw new FormatException(
                    $"Noun seed '{text}': the {NounsLayers.TraitType(NounsLayers.DrawOrder[i]).ToLowerInvariant()} index '{items[i]}' is not a non-negative integer.");
        }
        return FromIndices(values);
    }

    /// <summary>The seed as <c>background,body,accessory,head,glasses</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Background},{Body},{Accessory},{Head},{Glasses}");
}
