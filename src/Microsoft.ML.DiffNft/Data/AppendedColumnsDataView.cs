using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>One materialised column to append to a data view: a name, a type and one value per input row.</summary>
internal sealed class AppendedColumn
{
    private AppendedColumn(string name, DataViewType type, Delegate getterFactory, int count)
    {
        Name = name;
        Type = type;
        GetterFactory = getterFactory;
        Count = count;
    }

    public string Name { get; }
    public DataViewType Type { get; }
    public int Count { get; }

    // Func<Func<long>, ValueGetter<T>>: given the cursor's position, a getter for that row.
    public Delegate GetterFactory { get; }

    public static AppendedColumn Create<T>(string name, DataViewType type, IReadOnlyList<T> values) =>
        new(name, type, (Func<Func<long>, ValueGetter<T>>)(position => (ref T value) => value = values[(int)position()]), values.Count);
}

/// <summary>
/// An <see cref="IDataView"/> that passes every input column through and adds columns whose values were computed for
/// each input row in advance (for example images generated in batches). Output columns hide input columns of the
/// same name, as ML.NET transforms do. Rows keep their input order; shuffling is not offered.
/// </summary>
internal sealed class AppendedColumnsDataView : IDataView
{
    private readonly IDataView _input;
    private readonly AppendedColumn[] _columns;

    public AppendedColumnsDataView(IDataView input, params AppendedColumn[] columns)
    {
        _input = input ?? throw new ArgumentNullException(nameof(input));
        _columns = columns;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        foreach (var c in columns) builder.AddColumn(c.Name, c.Type);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _columns.Length > 0 ? _columns[0].Count : _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int inputCount = _input.Schema.Count;
        var needed = columnsNeeded.Where(c => c.Index < inputCount).Select(c => _input.Schema[c.Index]).ToList();
        return new Cursor(this, _input.GetRowCursor(needed));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly AppendedColumnsDataView _parent;
        private readonly DataViewRowCursor _input;

        public Cursor(AppendedColumnsDataView parent, DataViewRowCursor input)
        {
            _parent = parent;
            _input = input;
        }

        public override DataViewSchema Schema => _parent.Schema;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;

        public override bool MoveNext()
        {
            if (!_input.MoveNext()) return false;
            if (_parent._columns.Length > 0 && _input.Position >= _parent._columns[0].Count)
                throw new InvalidOperationException("The input data view has more rows than when its output columns were computed; it must not change between Transform and reading.");
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _input.Schema.Count;
            if (column.Index < inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            var col = _parent._columns[column.Index - inputCount];
            if (col.GetterFactory is not Func<Func<long>, ValueGetter<TValue>> factory)
                throw new InvalidOperationException($"Invalid TValue '{typeof(TValue).Name}' for column '{col.Name}' of type {col.Type}.");
            return factory(() => _input.Position);
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= _input.Schema.Count || _input.IsColumnActive(_input.Schema[column.Index]);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
