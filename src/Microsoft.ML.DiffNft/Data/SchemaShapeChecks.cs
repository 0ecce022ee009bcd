using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// The checks of <see cref="ColumnReaders"/> on a <see cref="SchemaShape"/>, for estimators' <c>GetOutputSchema</c>: the
/// same column roles, types and ML.NET wording, so that an estimator reports before <c>Fit</c> what <c>Fit</c> or its
/// transformer would report later.
/// </summary>
internal static class SchemaShapeChecks
{
    /// <summary>Finds a column or throws ML.NET's "Could not find {role} column" error.</summary>
    public static SchemaShape.Column Find(IExceptionContext host, SchemaShape schema, string name, string role)
    {
        var col = schema.FirstOrDefault(c => c.Name == name);
        if (col.Name is null)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema",
                $"Could not find {role} column '{name}'{ColumnReaders.MissingCollectionImageHint(name, schema.Any(c => c.Name == NftSchema.TokenIdColumnName))}"));
        return col;
    }

    /// <summary>Checks a scalar text column.</summary>
    public static void CheckText(IExceptionContext host, SchemaShape schema, string name, string role)
    {
        var col = Find(host, schema, name, role);
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || col.ItemType is not TextDataViewType)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected String, got {col.ItemType}"));
    }

    /// <summary>Checks a scalar image column: an image or a text path.</summary>
    public static void CheckImage(IExceptionContext host, SchemaShape schema, string name, string role)
    {
        var col = Find(host, schema, name, role);
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || (col.ItemType is not ImageDataViewType && col.ItemType is not TextDataViewType))
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Image or String (a path), got {col.ItemType}"));
    }

    /// <summary>Checks an optional scalar Int64/Int32/UInt32 column when present.</summary>
    public static void CheckOptionalInteger(IExceptionContext host, SchemaShape schema, string name, string role)
    {
        var col = schema.FirstOrDefault(c => c.Name == name);
        if (col.Name is null) return;
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar ||
            (col.ItemType != NumberDataViewType.Int64 && col.ItemType != NumberDataViewType.Int32 && col.ItemType != NumberDataViewType.UInt32))
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Int64, Int32 or UInt32, got {col.ItemType}"));
    }
}
