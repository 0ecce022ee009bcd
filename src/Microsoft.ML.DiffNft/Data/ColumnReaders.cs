using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// Reads columns out of an <see cref="IDataView"/> with ML.NET-style errors for missing or mistyped columns: whole
/// columns (<c>Read…</c>) for trainers, and per-row readers (<c>…Reader</c>) for the lazy transforms, which share the
/// same checks and conversions.
/// </summary>
internal static class ColumnReaders
{
    /// <summary>Finds a column or throws ML.NET's "Could not find {role} column" error.</summary>
    public static DataViewSchema.Column Find(IExceptionContext host, DataViewSchema schema, string name, string role)
    {
        var col = schema.GetColumnOrNull(name);
        if (col is null)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema",
                $"Could not find {role} column '{name}'{MissingCollectionImageHint(name, schema.GetColumnOrNull(NftSchema.TokenIdColumnName) is not null)}"));
        return col.Value;
    }

    /// <summary>
    /// When a collection's view lacks its image column, why: <see cref="NftCollection.ToDataView"/> leaves it out unless every
    /// token has an image of one size — a missing or odd-sized image then surfaces as a missing column, so the message says so.
    /// </summary>
    internal static string MissingCollectionImageHint(string name, bool hasTokenIds) =>
        name == NftSchema.ImageColumnName && hasTokenIds
            ? " (a collection's data view has it only when every token has an image and all images have one size: check that no token's Image is null and that their sizes agree)"
            : "";

    /// <summary>Finds a text column or throws ML.NET's schema errors.</summary>
    public static DataViewSchema.Column FindText(IExceptionContext host, DataViewSchema schema, string name, string role)
    {
        var col = Find(host, schema, name, role);
        if (col.Type is not TextDataViewType)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected String, got {col.Type}"));
        return col;
    }

    /// <summary>Finds an image column (<see cref="MLImage"/> or a text path) or throws ML.NET's schema errors.</summary>
    public static DataViewSchema.Column FindImage(IExceptionContext host, DataViewSchema schema, string name, string role)
    {
        var col = Find(host, schema, name, role);
        if (col.Type is not ImageDataViewType && col.Type is not TextDataViewType)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Image or String (a path), got {col.Type}"));
        return col;
    }

    /// <summary>Finds an optional Int64/Int32/UInt32 column; null when absent, ML.NET's schema error when mistyped.</summary>
    public static DataViewSchema.Column? FindOptionalInteger(IExceptionContext host, DataViewSchema schema, string name, string role)
    {
        var found = schema.GetColumnOrNull(name);
        if (found is { } col && col.Type != NumberDataViewType.Int64 && col.Type != NumberDataViewType.Int32 && col.Type != NumberDataViewType.UInt32)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Int64, Int32 or UInt32, got {col.Type}"));
        return found;
    }

    /// <summary>A reader of the current row's text in <paramref name="col"/> (found by <see cref="FindText"/>).</summary>
    public static Func<string> TextReader(DataViewRow row, DataViewSchema.Column col)
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(col);
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            getter(ref value);
            return value.ToString();
        };
    }

    /// <summary>A reader of the current row's integer in <paramref name="col"/> (found by <see cref="FindOptionalInteger"/>).</summary>
    public static Func<long> IntegerReader(DataViewRow row, DataViewSchema.Column col)
    {
        if (col.Type == NumberDataViewType.Int64)
        {
            var g = row.GetGetter<long>(col);
            long v = 0;
            return () => { g(ref v); return v; };
        }
        if (col.Type == NumberDataViewType.Int32)
        {
            var g = row.GetGetter<int>(col);
            int v = 0;
            return () => { g(ref v); return v; };
        }
        var u = row.GetGetter<uint>(col);
        uint w = 0;
        return () => { u(ref w); return w; };
    }

    /// <summary>
    /// A reader of the current row's image in <paramref name="col"/> (found by <see cref="FindImage"/>): the
    /// <see cref="MLImage"/>, or the image file a text value names. Errors name the row, the column and its role, so a
    /// text column that does not hold paths is easy to spot.
    /// </summary>
    public static Func<RgbaImage> ImageReader(DataViewRow row, DataViewSchema.Column col, string role)
    {
        if (col.Type is ImageDataViewType)
        {
            var getter = row.GetGetter<MLImage>(col);
            MLImage value = null!;
            return () =>
            {
                getter(ref value);
                return value is null
                    ? throw new InvalidDataException($"Row {row.Position} of {role} column '{col.Name}' has no image.")
                    : value.ToRgbaImage();
            };
        }
        var text = TextReader(row, col);
        return () =>
        {
            string path = text();
            try
            {
                return PngCodec.Load(path);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException or NotSupportedException)
            {
                // The column is text, so it is read as paths; a column of other text (an id, a trait) lands here.
                throw new InvalidDataException($"Row {row.Position} of {role} column '{col.Name}' holds '{path}', which is not a readable image file; " +
                    $"a text {role} column must hold image file paths. {ex.Message}", ex);
            }
        };
    }

    /// <summary>Reads a text column.</summary>
    public static List<string> ReadText(IExceptionContext host, IDataView data, string name, string role) =>
        ReadAll(data, FindText(host, data.Schema, name, role), TextReader);

    /// <summary>Reads an optional Int64/Int32/UInt32 column as longs, or null when the column is absent.</summary>
    public static List<long>? ReadOptionalIntegers(IExceptionContext host, IDataView data, string name, string role) =>
        FindOptionalInteger(host, data.Schema, name, role) is { } col ? ReadAll(data, col, IntegerReader) : null;

    /// <summary>Reads an image column: <see cref="MLImage"/> values, or text paths to image files.</summary>
    public static List<RgbaImage> ReadImages(IExceptionContext host, IDataView data, string name, string role) =>
        ReadAll(data, FindImage(host, data.Schema, name, role), (row, col) => ImageReader(row, col, role));

    private static List<T> ReadAll<T>(IDataView data, DataViewSchema.Column col, Func<DataViewRow, DataViewSchema.Column, Func<T>> reader)
    {
        var result = new List<T>();
        using var cursor = data.GetRowCursor(new[] { col });
        var read = reader(cursor, col);
        while (cursor.MoveNext()) result.Add(read());
        return result;
    }
}
