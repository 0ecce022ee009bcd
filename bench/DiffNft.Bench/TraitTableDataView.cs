using Microsoft.ML;
using Microsoft.ML.Data;

namespace DiffNft.Bench;

/// <summary>
/// <see cref="ZipfTraitData"/> as an ML.NET <see cref="IDataView"/>: a <c>TokenId</c> text column and one text column per
/// trait type, read straight from the in-memory arrays (the counterpart of DuckDB's in-memory table). Cursor sets split
/// the rows, so ML.NET can read them on every core.
/// </summary>
internal sealed class TraitTableDataView : IDataView
{
    private readonly ZipfTraitData _data;
    private readonly ReadOnlyMemory<char>[] _tokenIds;
    private readonly ReadOnlyMemory<char>[][] _vocabulary;

    public TraitTableDataView(ZipfTraitData data)
    {
        _data = data;
        _tokenIds = new ReadOnlyMemory<char>[data.Tokens];
        for (int i = 0; i < data.Tokens; i++) _tokenIds[i] = (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).AsMemory();
        _vocabulary = data.Vocabulary.Select(v => v.Select(s => s.AsMemory()).ToArray()).ToArray();
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("TokenId", TextDataViewType.Instance);
        foreach (string name in data.TraitNames) builder.AddColumn(name, TextDataViewType.Instance);
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => _data.Tokens;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        return new Cursor(this, active, 0, _data.Tokens);
    }

    /// <summary>Splits the rows into <paramref name="n"/> contiguous ranges, one cursor each (as DuckDB scans a table in parallel).</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        n = Math.Clamp(n, 1, Math.Max(1, _data.Tokens));
        return Enumerable.Range(0, n)
            .Select(i => (DataViewRowCursor)new Cursor(this, active, (int)((long)_data.Tokens * i / n), (int)((long)_data.Tokens * (i + 1) / n)))
            .ToArray();
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TraitTableDataView _view;
        private readonly bool[] _active;
        private readonly int _end;
        private int _row;

        public Cursor(TraitTableDataView view, bool[] active, int start, int end)
        {
            _view = view;
            _active = active;
            _row = start - 1;
            _end = end;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _row;

        public override long Batch => 0;

        public override bool MoveNext() => ++_row < _end;

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId v) => v = new DataViewRowId((ulong)_row, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (typeof(TValue) != typeof(ReadOnlyMemory<char>))
                throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{typeof(ReadOnlyMemory<char>)}'.");
            ValueGetter<ReadOnlyMemory<char>> getter;
            if (column.Index == 0)
            {
                var ids = _view._tokenIds;
                getter = (ref ReadOnlyMemory<char> v) => v = ids[_row];
            }
            else
            {
                var values = _view._data.Values[column.Index - 1];
                var vocab = _view._vocabulary[column.Index - 1];
                getter = (ref ReadOnlyMemory<char> v) =>
                {
                    int k = values[_row];
                    v = k < 0 ? ReadOnlyMemory<char>.Empty : vocab[k];
                };
            }
            return (ValueGetter<TValue>)(Delegate)getter;
        }
    }
}
