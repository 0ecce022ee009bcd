using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// An <see cref="IDataView"/> over an in-memory collection: <c>TokenId</c>, one text column per trait type (annotated with
/// the original trait type and whether it is numeric), and optionally <c>Caption</c> and <c>Image</c>.
/// Text values are built once; images are copied into a new ML.NET image on every get, which the caller owns. The image
/// column needs the main package's <see cref="ImageSupport"/>; without it the view has no image column.
/// </summary>
internal sealed class NftCollectionDataView : IDataView
{
    private readonly NftCollection _collection;
    // One array of values per column; null for the image column, which is read from the tokens.
    private readonly ReadOnlyMemory<char>[]?[] _text;
    private readonly int _imageColumn = -1;

    public NftCollectionDataView(NftCollection collection, NftCollectionDataViewOptions options)
    {
        _collection = collection;
        int rows = collection.Count;
        var traits = collection.GetTraitColumns();
        var builder = new DataViewSchema.Builder();
        var text = new List<ReadOnlyMemory<char>[]?>();

        builder.AddColumn(NftSchema.TokenIdColumnName, TextDataViewType.Instance);
        text.Add(collection.Tokens.Select(t => t.TokenId.AsMemory()).ToArray());

        var columnOfTrait = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var trait in traits)
        {
            var annotations = new DataViewSchema.Annotations.Builder();
            string traitType = trait.TraitType;
            bool numeric = trait.IsNumeric;
            annotations.Add(NftSchema.TraitTypeAnnotation, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = traitType.AsMemory());
            annotations.Add(NftSchema.TraitIsNumericAnnotation, BooleanDataViewType.Instance, (ref bool v) => v = numeric);
            builder.AddColumn(trait.ColumnName, TextDataViewType.Instance, annotations.ToAnnotations());
            columnOfTrait.Add(traitType, text.Count);
            text.Add(new ReadOnlyMemory<char>[rows]); // default = empty text = trait absent
        }
        // One pass over all attributes fills every trait column.
        for (int row = 0; row < rows; row++)
            foreach (var a in collection.Tokens[row].Attributes)
                text[columnOfTrait[a.TraitType]]![row] = a.Value.AsMemory();

        if (options.IncludeCaptions && collection.Tokens.Any(t => t.Caption is not null))
        {
            builder.AddColumn(NftSchema.CaptionColumnName, TextDataViewType.Instance);
            text.Add(collection.Tokens.Select(t => (t.Caption ?? "").AsMemory()).ToArray());
        }
        else if (options.IncludeCaptions && options.CaptionSubject is { } subject && traits.Count > 0)
        {
            builder.AddColumn(NftSchema.CaptionColumnName, TextDataViewType.Instance);
            text.Add(NftCaptions.ForCollection(collection, subject).Select(c => c.AsMemory()).ToArray());
        }
        if (options.IncludeImages && collection.HasImages && ImageSupport.Current is { } images)
        {
            var first = collection.Tokens[0].Image!;
            if (collection.Tokens.All(t => t.Image!.Width == first.Width && t.Image.Height == first.Height))
            {
                builder.AddColumn(NftSchema.ImageColumnName, images.ImageColumnType(first.Height, first.Width));
                _imageColumn = text.Count;
                text.Add(null);
            }
        }
        _text = text.ToArray();
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    // Rows come from a list in a fixed order; ML.NET shuffles through its own transforms when asked.
    public bool CanShuffle => false;

    public long? GetRowCount() => _collection.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded)
        {
            if (c.Index < 0 || c.Index >= Schema.Count || Schema[c.Index].Name != c.Name)
                throw new ArgumentOutOfRangeException(nameof(columnsNeeded), $"Column '{c.Name}' does not belong to this data view's schema.");
            active[c.Index] = true;
        }
        return new Cursor(this, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly NftCollectionDataView _parent;
        private readonly bool[] _active;
        private long _position = -1;
        private bool _done;

        public Cursor(NftCollectionDataView parent, bool[] active)
        {
            _parent = parent;
            _active = active;
        }

        public override DataViewSchema Schema => _parent.Schema;

        // -1 before the first row and after the last, as ML.NET's own cursors report.
        public override long Position => _done ? -1 : _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_done) return false;
            if (_position + 1 < _parent._collection.Count)
            {
                _position++;
                return true;
            }
            _done = true;
            return false;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[CheckColumn(column)];

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) =>
        {
            CheckRow();
            value = new DataViewRowId((ulong)_position, 0);
        };

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int index = CheckColumn(column);
            if (!_active[index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor; ask for it in columnsNeeded.");
            var rawType = Schema[index].Type.RawType;
            if (typeof(TValue) != rawType)
                throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{rawType}'.");

            if (index == _parent._imageColumn)
            {
                // A new image each time: the caller owns (and may dispose) what it gets, as with ML.NET's image loader.
                return (ValueGetter<TValue>)ImageSupport.Current!.ImageGetter(() =>
                {
                    CheckRow();
                    return _parent._collection.Tokens[(int)_position].Image!;
                });
            }
            var values = _parent._text[index]!;
            ValueGetter<ReadOnlyMemory<char>> text = (ref ReadOnlyMemory<char> value) =>
            {
                CheckRow();
                value = values[_position];
            };
            return (ValueGetter<TValue>)(Delegate)text;
        }

        private int CheckColumn(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= Schema.Count || Schema[column.Index].Name != column.Name)
                throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' does not belong to this cursor's schema.");
            return column.Index;
        }

        private void CheckRow()
        {
            if (_position < 0 || _done)
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first and stop once it returns false.");
        }
    }
}
