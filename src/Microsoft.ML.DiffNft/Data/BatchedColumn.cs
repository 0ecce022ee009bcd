using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// An output column of a <see cref="BatchedColumnsDataView{TRow}"/>: its name, its type, and how a getter hands out one value
/// of a computed batch (the batch holds the column's values as a <c>T[]</c>).
/// </summary>
internal abstract class BatchedColumn
{
    private protected BatchedColumn(string name, DataViewType type)
    {
        Name = name;
        Type = type;
    }

    public string Name { get; }

    public DataViewType Type { get; }

    /// <summary>
    /// A column of <typeparamref name="T"/> values. <paramref name="copy"/> gives every read its own copy, for values a
    /// reader may write into (ML.NET consumers reuse the <see cref="VBuffer{T}"/> buffers they are handed).
    /// </summary>
    public static BatchedColumn Create<T>(string name, DataViewType type, Func<T, T>? copy = null) => new Typed<T>(name, type, copy);

    /// <summary>A getter of this column; <paramref name="locate"/> returns the current row's batch values and index in them.</summary>
    public abstract Delegate MakeGetter(Func<(Array Values, int Index)> locate);

    private sealed class Typed<T>(string name, DataViewType type, Func<T, T>? copy) : BatchedColumn(name, type)
    {
        public override Delegate MakeGetter(Func<(Array Values, int Index)> locate) =>
            (ValueGetter<T>)((ref T value) =>
            {
                var (values, index) = locate();
                var v = ((T[])values)[index];
                value = copy is null ? v : copy(v);
            });
    }
}

/// <summary>
/// What a <see cref="BatchedColumnsDataView{TRow}"/> computes: output columns for consecutive batches of input rows
/// (images generated from prompts, rewards scored from images).
/// </summary>
/// <typeparam name="TRow">What <see cref="Compute"/> needs of one input row (a prompt and seed, an image).</typeparam>
internal interface IBatchColumnMapper<TRow>
{
    /// <summary>Rows per batch (the generator's or scorer's batch size).</summary>
    int BatchSize { get; }

    /// <summary>The columns added to the input.</summary>
    IReadOnlyList<BatchedColumn> Outputs { get; }

    /// <summary>The input columns <see cref="RowReader"/> reads; throws ML.NET's schema errors when one is missing or mistyped.</summary>
    IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema inputSchema);

    /// <summary>A reader of the current row of <paramref name="row"/> (a cursor over <see cref="InputColumns"/>).</summary>
    Func<TRow> RowReader(DataViewRow row);

    /// <summary>Computes one batch: returns one <c>T[]</c> per output column, with one value per row.</summary>
    Array[] Compute(IReadOnlyList<TRow> rows);
}
