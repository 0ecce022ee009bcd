using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>Reads whole columns out of an <see cref="IDataView"/> with ML.NET-style errors for missing or mistyped columns.</summary>
internal static class ColumnReaders
{
    /// <summary>Finds a column or throws ML.NET's "Could not find {role} column" error.</summary>
    public static DataViewSchema.Column Find(IExceptionContext host, DataViewSchema schema, string name, string role)
    {
        var col = schema.GetColumnOrNull(name);
        if (col is null)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Could not find {role} column '{name}'"));
        return col.Value;
    }

    /// <summary>Reads a text column.</summary>
    public static List<string> ReadText(IExceptionContext host, IDataView data, string name, string role)
    {
        var col = Find(host, data.Schema, name, role);
        if (col.Type is not TextDataViewType)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected String, got {col.Type}"));
        var result = new List<string>();
        using var cursor = data.GetRowCursor(new[] { col });
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(col);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            result.Add(value.ToString());
        }
        return result;
    }

    /// <summary>Reads an optional Int64/Int32/UInt32 column as longs, or null when the column is absent.</summary>
    public static List<long>? ReadOptionalIntegers(IExceptionContext host, IDataView data, string name, string role)
    {
        var found = data.Schema.GetColumnOrNull(name);
        if (found is null) return null;
        var col = found.Value;
        var result = new List<long>();
        using var cursor = data.GetRowCursor(new[] { col });
        if (col.Type == NumberDataViewType.Int64)
        {
            var g = cursor.GetGetter<long>(col);
            long v = 0;
            while (cursor.MoveNext()) { g(ref v); result.Add(v); }
        }
        else if (col.Type == NumberDataViewType.Int32)
        {
            var g = cursor.GetGetter<int>(col);
            int v = 0;
            while (cursor.MoveNext()) { g(ref v); result.Add(v); }
        }
        else if (col.Type == NumberDataViewType.UInt32)
        {
            var g = cursor.GetGetter<uint>(col);
            uint v = 0;
            while (cursor.MoveNext()) { g(ref v); result.Add(v); }
        }
        else
        {
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Int64, Int32 or UInt32, got {col.Type}"));
        }
        return result;
    }

    /// <summary>Reads an image column: <see cref="MLImage"/> values, or text paths to image files.</summary>
    public static List<RgbaImage> ReadImages(IExceptionContext host, IDataView data, string name, string role)
    {
        var col = Find(host, data.Schema, name, role);
        var result = new List<RgbaImage>();
        using var cursor = data.GetRowCursor(new[] { col });
        if (col.Type is ImageDataViewType)
        {
            var getter = cursor.GetGetter<MLImage>(col);
            MLImage value = null!;
            while (cursor.MoveNext())
            {
                getter(ref value);
                if (value is null)
                    throw new InvalidDataException($"Row {cursor.Position} of {role} column '{name}' has no image.");
                result.Add(value.ToRgbaImage());
            }
        }
        else if (col.Type is TextDataViewType)
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(col);
            ReadOnlyMemory<char> value = default;
            while (cursor.MoveNext())
            {
                getter(ref value);
                result.Add(PngCodec.Load(value.ToString()));
            }
        }
        else
        {
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Image or String (a path), got {col.Type}"));
        }
        return result;
    }
}
