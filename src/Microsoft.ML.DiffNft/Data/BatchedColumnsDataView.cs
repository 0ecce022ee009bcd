using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// A lazy <see cref="IDataView"/> that passes every input column through and adds columns an
/// <see cref="IBatchColumnMapper{TRow}"/> computes for batches of input rows (images generated from prompts, rewards
/// scored from images). Nothing is computed until an added column is read: reading row r computes the batch of rows
/// [⌊r / B⌋·B, ⌊r / B⌋·B + B), B being the mapper's batch size, and keeps it by batch index, so every cursor of this
/// view reuses it and a second pass computes nothing. A cursor that does not ask for an added column computes nothing.
/// </summary>
/// <remarks>
/// <para>
/// Keeping the computed batches for the view's lifetime costs the memory the eager transforms used to hold, and it is
/// what makes the view deterministic and cheap to read twice (ML.NET trainers read their input several times). Each
/// batch depends only on its rows, so the values do not depend on which cursor computed them.
/// </para>
/// <para>
/// Rows keep their input order; shuffling is not offered (<see cref="CanShuffle"/> is false, so ML.NET does not ask
/// for it) and a cursor set has one cursor. Batches are computed one at a time (under a lock): the models behind them
/// are not safe to run from several threads at once.
/// </para>
/// <para>Output columns hide input columns of the same name, as ML.NET transforms do.</para>
/// </remarks>
/// <typeparam name="TRow">What the mapper reads of one input row.</typeparam>
internal sealed class BatchedColumnsDataView<TRow> : IDataView
{
    private readonly IDataView _input;
    private readonly IBatchColumnMapper<TRow> _mapper;
    private readonly DataViewSchema.Column[] _mapperInputs;
    private readonly IReadOnlyList<BatchedColumn> _outputs;
    private readonly Dictionary<long, Array[]> _batches = new();
    private readonly object _lock = new();

    /// <summary>Makes the view; checks the mapper's input columns, but computes nothing.</summary>
    public BatchedColumnsDataView(IDataView input, IBatchColumnMapper<TRow> mapper)
    {
        _input = input ?? throw new ArgumentNullException(nameof(input));
        _mapper = mapper ?? throw new ArgumentNullException(nameof(mapper));
        if (mapper.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(mapper), mapper.BatchSize, "The batch size must be positive.");
        _mapperInputs = mapper.InputColumns(input.Schema).ToArray();
        _outputs = mapper.Outputs;
        Schema = OutputSchema(input.Schema, mapper);
    }

    /// <summary>The schema of a view of <paramref name="mapper"/> over an input of <paramref name="inputSchema"/> (its checks included).</summary>
    public static DataViewSchema OutputSchema(DataViewSchema inputSchema, IBatchColumnMapper<TRow> mapper)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(mapper);
        mapper.InputColumns(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var c in mapper.Outputs) builder.AddColumn(c.Name, c.Type);
        return builder.ToSchema();
    }

    /// <summary>False: rows come in input order.</summary>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <summary>The number of batches computed so far (for tests and logs).</summary>
    internal int ComputedBatchCount
    {
        get
        {
            lock (_lock) return _batches.Count;
        }
    }

    /// <summary>The input's row count: one output row per input row.</summary>
    public long? GetRowCount() => _input.GetRowCount();

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        int inputCount = _input.Schema.Count;
        var needed = columnsNeeded.ToList();
        var inputs = needed.Where(c => c.Index < inputCount).Select(c => _input.Schema[c.Index]).ToList();
        var active = new bool[_outputs.Count];
        foreach (var c in needed.Where(c => c.Index >= inputCount)) active[c.Index - inputCount] = true;
        return new Cursor(this, _input.GetRowCursor(inputs), active);
    }

    /// <summary>One cursor: batches are computed one at a time anyway.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    /// <summary>Returns batch <paramref name="index"/>, computing it from <paramref name="cursor"/>'s input rows the first time.</summary>
    private Array[] GetBatch(long index, Cursor cursor)
    {
        lock (_lock)
        {
            if (_batches.TryGetValue(index, out var batch)) return batch;
            var rows = cursor.ReadInputRows(index * _mapper.BatchSize, _mapper.BatchSize);
            batch = _mapper.Compute(rows);
            if (batch.Length != _outputs.Count || batch.Any(values => values.Length != rows.Count))
                throw new InvalidOperationException($"The batch mapper returned {batch.Length} columns for {_outputs.Count} outputs, or not one value per row.");
            _batches.Add(index, batch);
            return batch;
        }
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchedColumnsDataView<TRow> _parent;
        private readonly DataViewRowCursor _input;
        private readonly bool[] _active;
        // A second cursor over the mapper's inputs. It only moves forward, so reading a view in order reads the input
        // twice in all, not once per batch.
        private DataViewRowCursor? _side;
        private Func<TRow>? _sideReader;
        private bool _sideDone;
        private long _batchIndex = -1;
        private Array[]? _batch;

        public Cursor(BatchedColumnsDataView<TRow> parent, DataViewRowCursor input, bool[] active)
        {
            _parent = parent;
            _input = input;
            _active = active;
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override bool MoveNext() => _input.MoveNext();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _input.Schema.Count;
            if (column.Index < inputCount) return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            int k = column.Index - inputCount;
            var output = _parent._outputs[k];
            if (!_active[k])
                throw new InvalidOperationException($"Column '{output.Name}' is not active in this cursor; ask for it in GetRowCursor's columnsNeeded.");
            if (output.MakeGetter(() => Locate(k)) is not ValueGetter<TValue> getter)
                throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{output.Name}': '{typeof(TValue)}', expected type: '{output.Type.RawType}'.");
            return getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= _input.Schema.Count ? _active[column.Index - _input.Schema.Count] : _input.IsColumnActive(_input.Schema[column.Index]);

        /// <summary>Reads the mapper's inputs of rows [start, start + count), fewer at the end of the input.</summary>
        internal List<TRow> ReadInputRows(long start, int count)
        {
            if (_side is null || _sideDone || _side.Position >= start)
            {
                _side?.Dispose();
                _side = _parent._input.GetRowCursor(_parent._mapperInputs);
                _sideReader = _parent._mapper.RowReader(_side);
                _sideDone = false;
            }
            var rows = new List<TRow>(count);
            while (rows.Count < count)
            {
                if (!_side.MoveNext())
                {
                    _sideDone = true;
                    break;
                }
                if (_side.Position >= start) rows.Add(_sideReader!());
            }
            if (rows.Count == 0)
                throw new InvalidOperationException($"The input data view has no row {start}, which a cursor reached: it must not change between Transform and reading.");
            return rows;
        }

        private (Array Values, int Index) Locate(int column)
        {
            long position = _input.Position;
            if (position < 0) throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
            long index = position / _parent._mapper.BatchSize;
            if (index != _batchIndex)
            {
                _batch = _parent.GetBatch(index, this);
                _batchIndex = index;
            }
            int offset = (int)(position - index * _parent._mapper.BatchSize);
            var values = _batch![column];
            if (offset >= values.Length)
                throw new InvalidOperationException($"The input data view has more rows than when batch {index} was computed; it must not change between Transform and reading.");
            return (values, offset);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
                _side?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
