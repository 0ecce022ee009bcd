namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// The distinct normalised values of one trait type, numbered 0, 1, … in order of first appearance. Lookups take a span,
/// so scoring a row allocates nothing.
/// </summary>
internal sealed class TraitValueIndex
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _values = new();

    public TraitValueIndex()
    {
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Number of distinct values.</summary>
    public int Count => _values.Count;

    /// <summary>The values, by id.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>Returns the id of a normalised value, or -1 when it is not in the index.</summary>
    public int Find(ReadOnlySpan<char> normalized) => _lookup.TryGetValue(normalized, out int id) ? id : -1;

    /// <summary>Returns the id of a normalised value, adding it when new.</summary>
    public int GetOrAdd(ReadOnlySpan<char> normalized)
    {
        if (_lookup.TryGetValue(normalized, out int id))
            return id;
        return Add(new string(normalized));
    }

    /// <summary>Adds a value that must not be present yet and returns its id.</summary>
    public int Add(string normalized)
    {
        int id = _values.Count;
        if (!_ids.TryAdd(normalized, id))
            throw new ArgumentException($"Value '{normalized}' is already in the index.", nameof(normalized));
        _values.Add(normalized);
        return id;
    }
}
