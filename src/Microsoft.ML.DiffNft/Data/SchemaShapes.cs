using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Data;

/// <summary>
/// Builds <see cref="SchemaShape"/>s for estimators' <c>GetOutputSchema</c> without ML.NET internals:
/// <c>SchemaShape.Column</c>'s constructor is internal, so a throw-away <c>CustomMapping</c> estimator, whose output
/// schema definition carries the wanted name and type, is asked for the shape (DESIGN.md §3).
/// </summary>
internal static class SchemaShapes
{
    private static readonly MLContext Oracle = new(seed: 0);

    /// <summary>The input shape with one image column added (or replaced).</summary>
    public static SchemaShape AddImage(SchemaShape input, string name, int height, int width) =>
        Add<ImageHolder>(input, name, new ImageDataViewType(height, width));

    /// <summary>The input shape with one scalar column added (or replaced).</summary>
    public static SchemaShape AddSingle(SchemaShape input, string name) => Add<SingleHolder>(input, name, NumberDataViewType.Single);

    /// <summary>The input shape with a fixed-size float vector column added (or replaced).</summary>
    public static SchemaShape AddVector(SchemaShape input, string name, int size) =>
        Add<VectorHolder>(input, name, new VectorDataViewType(NumberDataViewType.Single, size));

    private static SchemaShape Add<THolder>(SchemaShape input, string name, DataViewType type) where THolder : class, new()
    {
        var def = SchemaDefinition.Create(typeof(THolder));
        def[0].ColumnName = name;
        def[0].ColumnType = type;
        var oracle = Oracle.Transforms.CustomMapping<EmptyRow, THolder>((_, _) => { }, contractName: null, outputSchemaDefinition: def);
        return oracle.GetOutputSchema(input);
    }

    internal sealed class EmptyRow
    {
    }

    internal sealed class ImageHolder
    {
        [ImageType(1, 1)]
        public MLImage? Value { get; set; }
    }

    internal sealed class SingleHolder
    {
        public float Value { get; set; }
    }

    internal sealed class VectorHolder
    {
        [VectorType]
        public float[]? Value { get; set; }
    }
}
