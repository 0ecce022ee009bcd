using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Which parts of each layer take part: the first <i>k</i> of the layer in <c>image-data.json</c> order, or all of it.
/// Written as <c>bodies=8,accessories=10,heads=12,glasses=8</c> (layers not named keep all their parts).
/// </summary>
internal sealed class NounsSubset
{
    private readonly int?[] _counts = new int?[NounsLayers.Count];

    /// <summary>Every part of every layer.</summary>
    public static NounsSubset All => new();

    /// <summary>Creates a subset that keeps every part.</summary>
    public NounsSubset()
    {
    }

    /// <summary>Creates a subset from per-layer part counts (null = all parts of that layer).</summary>
    public NounsSubset(int? backgrounds = null, int? bodies = null, int? accessories = null, int? heads = null, int? glasses = null)
    {
        Set(NounsLayer.Background, backgrounds);
        Set(NounsLayer.Body, bodies);
        Set(NounsLayer.Accessory, accessories);
        Set(NounsLayer.Head, heads);
        Set(NounsLayer.Glasses, glasses);
    }

    /// <summary>The number of leading parts kept for a layer, or null for all of them.</summary>
    public int? this[NounsLayer layer] => _counts[(int)layer];

    /// <summary>Returns a copy with one layer limited to its first <paramref name="count"/> parts (null = all).</summary>
    public NounsSubset With(NounsLayer layer, int? count)
    {
        var copy = new NounsSubset();
        Array.Copy(_counts, copy._counts, _counts.Length);
        copy.Set(layer, count);
        return copy;
    }

    /// <summary>
    /// The number of parts kept per layer (in draw order) for a given art. Throws <see cref="ArgumentException"/> when a
    /// count exceeds the layer's size.
    /// </summary>
    public int[] Resolve(NounsArt art)
    {
        ArgumentNullException.ThrowIfNull(art);
        var result = new int[NounsLayers.Count];
        foreach (var layer in NounsLayers.DrawOrder)
        {
            int available = art.PartCount(layer);
            int? k = _counts[(int)layer];
            if (k > available)
                throw new ArgumentException(
                    $"The part subset asks for the first {k} {NounsLayers.PluralName(layer)}, but the art has only {available}.");
            result[(int)layer] = k ?? available;
        }
        return result;
    }

    /// <summary>True when the part is one of the first parts kept for its layer.</summary>
    public bool Contains(NounsLayer layer, int index) => index >= 0 && (_counts[(int)layer] is not { } k || index < k);

    /// <summary>
    /// Parses <c>layer=count</c> items separated by commas, for example <c>bodies=8,accessories=10,heads=12,glasses=8</c>.
    /// Layer names may be singular or plural (<c>head</c>, <c>heads</c>); an empty string keeps all parts. Throws
    /// <see cref="FormatException"/> naming the bad item.
    /// </summary>
    public static NounsSubset Parse(string? text)
    {
        var subset = new NounsSubset();
        if (string.IsNullOrWhiteSpace(text)) return subset;
        var seen = new HashSet<NounsLayer>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = item.IndexOf('=');
            if (eq <= 0)
                throw new FormatException($"Part subset item '{item}' must look like 'heads=12' (layer=count).");
            string name = item[..eq].Trim();
            string value = item[(eq + 1)..].Trim();
            if (!NounsLayers.TryParse(name, out var layer))
                throw new FormatException(
                    $"Part subset item '{item}': unknown layer '{name}'; expected backgrounds, bodies, accessories, heads or glasses.");
            if (!seen.Add(layer))
                throw new FormatException($"Part subset item '{item}': the layer {NounsLayers.PluralName(layer)} is given twice.");
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) || k < 1)
                throw new FormatException($"Part subset item '{item}': the count '{value}' must be a positive integer.");
            subset._counts[(int)layer] = k;
        }
        return subset;
    }

    /// <summary>The subset in the form <see cref="Parse"/> reads (<c>all</c> when nothing is limited).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var layer in NounsLayers.DrawOrder)
        {
            if (_counts[(int)layer] is not { } k) continue;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(NounsLayers.PluralName(layer)).Append('=').Append(k.ToString(CultureInfo.InvariantCulture));
        }
        return sb.Length == 0 ? "all" : sb.ToString();
    }

    private void Set(NounsLayer layer, int? count)
    {
        if (count is < 1)
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"The number of {NounsLayers.PluralName(layer)} to keep must be at least 1.");
        _counts[(int)layer] = count;
    }
}
