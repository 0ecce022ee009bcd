using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>The output of <see cref="TraitRarityTransformer.Transform"/>: the input rows with the rarity columns added, computed lazily.</summary>
internal sealed class TraitRarityDataView : IDataView
{
    private readonly IDataView _source;
    private readonly TraitRarityBinding _binding;

    public TraitRarityDataView(IDataView source, TraitRarityBinding binding)
    {
        _source = source;
        _binding = binding;
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema => _binding.OutputSchema;

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var (active, inputs) = _binding.Plan(columnsNeeded);
        return new TraitRarityCursor(_source.GetRowCursor(inputs, rand), _binding, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var (active, inputs) = _binding.Plan(columnsNeeded);
        // Rows are scored independently, so each of the source's parallel cursors gets its own scoring state.
        return _source.GetRowCursorSet(inputs, n, rand)
            .Select(c => (DataViewRowCursor)new TraitRarityCursor(c, _binding, active))
            .ToArray();
    }
}

/// <summary>A cursor over <see cref="TraitRarityDataView"/>: moves the source cursor and scores its rows on demand.</summary>
internal sealed class TraitRarityCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _input;
    private readonly TraitRarityBinding _binding;
    private readonly bool[] _active;
    private readonly RarityRowState _state;

    public TraitRarityCursor(DataViewRowCursor input, TraitRarityBinding binding, bool[] active)
    {
        _input = input;
        _binding = binding;
        _active = active;
        _state = new RarityRowState(input, binding, active.AsSpan(binding.InputSchema.Count).Contains(true));
    }

    public override DataViewSchema Schema => _binding.OutputSchema;

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override bool MoveNext() => _input.MoveNext();

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) =>
        column.Index >= 0 && column.Index < _active.Length && _active[column.Index];

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _binding.GetGetter<TValue>(_input, _state, _active, column);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _input.Dispose();
        base.Dispose(disposing);
    }
}
