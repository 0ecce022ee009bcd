using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>
/// A fitted <see cref="TraitRarityTransformer"/> bound to one input schema: where its trait columns are, and the output
/// schema (every input column, then the rarity columns, which hide input columns of the same name).
/// </summary>
internal sealed class TraitRarityBinding
{
    public TraitRarityBinding(IExceptionContext ectx, TraitRarityTransformer transformer, DataViewSchema inputSchema)
    {
        Transformer = transformer;
        InputSchema = inputSchema;
        var table = transformer.Table;
        TraitInputs = new DataViewSchema.Column[table.Traits.Count];
        for (int j = 0; j < TraitInputs.Length; j++)
            TraitInputs[j] = TraitColumnSelector.FindText(ectx, inputSchema, table.Traits[j].ColumnName);

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        var scalar = transformer.UseDoublePrecision ? NumberDataViewType.Double : NumberDataViewType.Single;
        builder.AddColumn(transformer.ScoreColumnName, scalar);
        builder.AddColumn(transformer.RankColumnName, NumberDataViewType.Int32);
        builder.AddColumn(transformer.IsRareColumnName, BooleanDataViewType.Instance);
        if (transformer.ProbabilitiesColumnName is { } probabilities)
        {
            var names = transformer.ProbabilitySlotNames;
            var slotNames = new DataViewSchema.Annotations.Builder();
            slotNames.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, names.Count),
                (ref VBuffer<ReadOnlyMemory<char>> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, names.Count);
                    for (int i = 0; i < names.Count; i++) editor.Values[i] = names[i].AsMemory();
                    value = editor.Commit();
                });
            builder.AddColumn(probabilities, new VectorDataViewType(scalar, names.Count), slotNames.ToAnnotations());
        }
        OutputSchema = builder.ToSchema();
    }

    public TraitRarityTransformer Transformer { get; }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>The input columns that hold the fitted trait types, in table order.</summary>
    public DataViewSchema.Column[] TraitInputs { get; }

    public int ScoreIndex => InputSchema.Count;

    public int RankIndex => InputSchema.Count + 1;

    public int IsRareIndex => InputSchema.Count + 2;

    public int ProbabilitiesIndex => Transformer.ProbabilitiesColumnName is null ? -1 : InputSchema.Count + 3;

    /// <summary>
    /// Splits the columns a consumer needs into the output columns to compute (flags by output index) and the input
    /// columns to read.
    /// </summary>
    public (bool[] Active, List<DataViewSchema.Column> Inputs) Plan(IEnumerable<DataViewSchema.Column> needed)
    {
        var active = new bool[OutputSchema.Count];
        var inputs = new HashSet<int>();
        bool computes = false;
        foreach (var column in needed)
        {
            if (column.Index < 0 || column.Index >= OutputSchema.Count)
                throw new ArgumentOutOfRangeException(nameof(needed), $"Column '{column.Name}' (index {column.Index}) is not in this schema.");
            active[column.Index] = true;
            if (column.Index < InputSchema.Count) inputs.Add(column.Index);
            else computes = true;
        }
        if (computes)
            foreach (var t in TraitInputs) inputs.Add(t.Index);
        return (active, inputs.Order().Select(i => InputSchema[i]).ToList());
    }

    /// <summary>Returns a getter for an output column, computing from <paramref name="state"/>'s input row.</summary>
    public Delegate OutputGetter(int index, RarityRowState state)
    {
        bool dbl = Transformer.UseDoublePrecision;
        if (index == ScoreIndex)
            return dbl
                ? (ValueGetter<double>)((ref double v) => v = state.Score)
                : (ValueGetter<float>)((ref float v) => v = (float)state.Score);
        if (index == RankIndex)
            return (ValueGetter<int>)((ref int v) => v = state.Rank);
        if (index == IsRareIndex)
            return (ValueGetter<bool>)((ref bool v) => v = state.IsRare);
        if (index == ProbabilitiesIndex)
        {
            if (dbl)
                return (ValueGetter<VBuffer<double>>)((ref VBuffer<double> v) =>
                {
                    var p = state.Probabilities;
                    var editor = VBufferEditor.Create(ref v, p.Length);
                    p.CopyTo(editor.Values);
                    v = editor.Commit();
                });
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
            {
                var p = state.Probabilities;
                var editor = VBufferEditor.Create(ref v, p.Length);
                for (int i = 0; i < p.Length; i++) editor.Values[i] = (float)p[i];
                v = editor.Commit();
            });
        }
        throw new ArgumentOutOfRangeException(nameof(index), $"Column index {index} is not an output of trait rarity.");
    }

    /// <summary>The shared GetGetter logic of the cursor and the row.</summary>
    public ValueGetter<TValue> GetGetter<TValue>(DataViewRow input, RarityRowState state, bool[] active, DataViewSchema.Column column)
    {
        if (column.Index < 0 || column.Index >= OutputSchema.Count)
            throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' (index {column.Index}) is not in this schema.");
        if (column.Index < InputSchema.Count)
            return input.GetGetter<TValue>(InputSchema[column.Index]);
        if (!active[column.Index])
            throw new InvalidOperationException($"Column '{column.Name}' is not active: request it when creating the cursor.");
        var type = OutputSchema[column.Index].Type;
        if (typeof(TValue) != type.RawType)
            throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{type.RawType}'.");
        return (ValueGetter<TValue>)OutputGetter(column.Index, state);
    }
}
