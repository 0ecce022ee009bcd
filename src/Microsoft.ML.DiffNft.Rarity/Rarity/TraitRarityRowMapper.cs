using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>Row-to-row form of <see cref="TraitRarityTransformer"/>, used by prediction engines to score one row at a time.</summary>
internal sealed class TraitRarityRowMapper : IRowToRowMapper
{
    private readonly TraitRarityBinding _binding;

    public TraitRarityRowMapper(TraitRarityBinding binding)
    {
        _binding = binding;
    }

    public DataViewSchema InputSchema => _binding.InputSchema;

    public DataViewSchema OutputSchema => _binding.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        ArgumentNullException.ThrowIfNull(dependingColumns);
        return _binding.Plan(dependingColumns).Inputs;
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(activeColumns);
        if (input.Schema != _binding.InputSchema)
            throw new ArgumentException("The row's schema is not the schema this mapper was made for.", nameof(input));
        var (active, _) = _binding.Plan(activeColumns);
        return new TraitRarityRow(input, _binding, active);
    }

    private sealed class TraitRarityRow : DataViewRow
    {
        private readonly DataViewRow _input;
        private readonly TraitRarityBinding _binding;
        private readonly bool[] _active;
        private readonly RarityRowState _state;

        public TraitRarityRow(DataViewRow input, TraitRarityBinding binding, bool[] active)
        {
            _input = input;
            _binding = binding;
            _active = active;
            _state = new RarityRowState(input, binding, active.AsSpan(binding.InputSchema.Count).Contains(true));
        }

        public override DataViewSchema Schema => _binding.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        // Input columns are as active as the caller made them on its row; outputs as requested here.
        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= 0 && column.Index < _active.Length &&
            (column.Index < _binding.InputSchema.Count ? _input.IsColumnActive(_binding.InputSchema[column.Index]) : _active[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            _binding.GetGetter<TValue>(_input, _state, _active, column);
    }
}
