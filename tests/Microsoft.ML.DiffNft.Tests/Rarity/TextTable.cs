using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Tests.Rarity;

/// <summary>
/// A small in-memory <see cref="IDataView"/> of text columns for rarity tests: a <c>TokenId</c> column and one column per
/// trait, optionally annotated like a loaded collection (<c>TraitType</c>, <c>TraitIsNumeric</c>).
/// </summary>
internal sealed class TextTable : IDataView
{
    private readonly string[][] _rows;

    private TextTable(DataViewSchema schema, string[][] rows)
    {
        Schema = schema;
        _rows = rows;
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _rows.Length;

    /// <summary>When true, <see cref="GetRowCursorSet"/> splits the rows into contiguous ranges, one cursor each.</summary>
    public bool Splits { get; init; }

    /// <summary>The same rows, with cursor sets that split.</summary>
    public TextTable Splitting() => new(Schema, _rows) { Splits = true };

    /// <summary>
    /// Builds a table from tokens given as trait maps (a missing key or null = the token lacks the trait). Columns are the
    /// union of the trait types in order of first appearance; token ids are list positions unless given.
    /// </summary>
    public static TextTable FromTokens(IReadOnlyList<IReadOnlyDictionary<string, string?>> tokens, bool annotate = false,
        IReadOnlyList<string>? tokenIds = null, ISet<string>? numericTraits = null, IReadOnlyList<string>? traitOrder = null)
    {
        var traits = traitOrder?.ToList() ?? new List<string>();
        if (traitOrder is null)
            foreach (var t in tokens)
                foreach (var k in t.Keys)
                    if (!traits.Contains(k)) traits.Add(k);
        var columns = new List<string> { "TokenId" };
        columns.AddRange(traits);
        var rows = tokens.Select((t, i) =>
        {
            var row = new string[columns.Count];
            row[0] = tokenIds?[i] ?? i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            for (int j = 0; j < traits.Count; j++)
                row[j + 1] = t.TryGetValue(traits[j], out var v) && v is not null ? v : "";
            return row;
        }).ToArray();
        return Create(columns, rows, annotate ? traits.Select(t => (t, numericTraits?.Contains(t) ?? false)).ToList() : null);
    }

    /// <summary>
    /// Builds a table with the given column names. When <paramref name="traitAnnotations"/> is given, the columns after the
    /// first are annotated with those trait types and numeric flags (column names then get a <c>T_</c> prefix, as a
    /// loader's safe names would differ from the trait types).
    /// </summary>
    public static TextTable Create(IReadOnlyList<string> columns, string[][] rows, IReadOnlyList<(string Type, bool Numeric)>? traitAnnotations = null)
    {
        var builder = new DataViewSchema.Builder();
        for (int c = 0; c < columns.Count; c++)
        {
            if (traitAnnotations is not null && c > 0)
            {
                var (type, numeric) = traitAnnotations[c - 1];
                var a = new DataViewSchema.Annotations.Builder();
                ReadOnlyMemory<char> typeText = type.AsMemory();
                a.Add("TraitType", TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = typeText);
                a.Add("TraitIsNumeric", BooleanDataViewType.Instance, (ref bool v) => v = numeric);
                builder.AddColumn("T_" + columns[c], TextDataViewType.Instance, a.ToAnnotations());
            }
            else
            {
                builder.AddColumn(columns[c], TextDataViewType.Instance);
            }
        }
        return new TextTable(builder.ToSchema(), rows);
    }

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        return new Cursor(this, active, 0, _rows.Length);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        if (!Splits || n <= 1) return [GetRowCursor(columnsNeeded, rand)];
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        return Enumerable.Range(0, n)
            .Select(i => (DataViewRowCursor)new Cursor(this, active, (long)_rows.Length * i / n, (long)_rows.Length * (i + 1) / n))
            .ToArray();
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TextTable _table;
        private readonly bool[] _active;
        private readonly long _end;
        private long _position;

        public Cursor(TextTable table, bool[] active, long start, long end)
        {
            _table = table;
            _active = active;
            _position = start - 1;
            _end = end;
        }

        public override DataViewSchema Schema => _table.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < _end;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId v) => v = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index]) throw new InvalidOperationException($"Column '{column.Name}' is not active.");
            int c = column.Index;
            ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> v) => v = _table._rows[_position][c].AsMemory();
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
