namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// The learned frequency table of one trait type: how many tokens of the fitted collection have each (normalised) value,
/// and how many lack the trait.
/// </summary>
public sealed class TraitFrequency
{
    private readonly int[] _counts;

    internal TraitFrequency(string columnName, string traitType, bool isNumeric, TraitValueIndex index, int[] counts, int nullCount)
    {
        ColumnName = columnName;
        TraitType = traitType;
        Name = TraitText.Normalize(traitType);
        IsNumeric = isNumeric;
        Index = index;
        _counts = counts;
        NullCount = nullCount;
    }

    /// <summary>The input column that holds this trait.</summary>
    public string ColumnName { get; }

    /// <summary>The trait type as written in the source (the column's <c>TraitType</c> annotation, else the column name).</summary>
    public string TraitType { get; }

    /// <summary>The trait type as OpenRarity compares it: trimmed and lower-cased.</summary>
    public string Name { get; }

    /// <summary>True when the column was marked numeric and scored as text (<see cref="NumericTraitHandling.TreatAsString"/>).</summary>
    public bool IsNumeric { get; }

    /// <summary>The distinct values (trimmed and lower-cased), in ordinal order.</summary>
    public IReadOnlyList<string> Values => Index.Values;

    /// <summary>The number of tokens with each value, parallel to <see cref="Values"/>.</summary>
    public IReadOnlyList<int> Counts => _counts;

    /// <summary>The number of tokens that lack this trait (OpenRarity's "null" value; used only when greater than 0).</summary>
    public int NullCount { get; }

    /// <summary>Returns how many fitted tokens have <paramref name="value"/> (compared after trimming and lower-casing); 0 when none.</summary>
    public int GetCount(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int id = Index.Find(TraitText.Normalize(value));
        return id < 0 ? 0 : _counts[id];
    }

    internal TraitValueIndex Index { get; }

    internal ReadOnlySpan<int> CountSpan => _counts;
}
