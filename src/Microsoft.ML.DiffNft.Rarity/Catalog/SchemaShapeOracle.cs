using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Catalog;

/// <summary>
/// Builds <see cref="SchemaShape"/> output columns without reflection. <see cref="SchemaShape.Column"/>'s constructor is
/// internal to ML.NET, so we ask a throw-away <c>CustomMapping</c> estimator, whose output column we name and type
/// through a <see cref="SchemaDefinition"/>, for its output shape.
/// </summary>
internal static class SchemaShapeOracle
{
    // Only ever asked for schema shapes; never fits or transforms anything.
    private static readonly MLContext s_context = new();

    /// <summary>Returns <paramref name="input"/> with the given columns added (replacing input columns of the same name).</summary>
    public static SchemaShape WithColumns(SchemaShape input, IEnumerable<(string Name, DataViewType Type)> outputs)
    {
        var result = input.ToDictionary(c => c.Name);
        foreach (var (name, type) in outputs)
            result[name] = Column(name, type);
        return new SchemaShape(result.Values);
    }

    /// <summary>A schema-shape column of the given name and type.</summary>
    public static SchemaShape.Column Column(string name, DataViewType type)
    {
        // Image columns need Microsoft.ML.ImageAnalytics, which the main package brings (SkiaImageSupport).
        if (ImageSupport.Current?.SchemaShapeColumn(name, type) is { } image)
            return image;
        var itemType = type is VectorDataViewType v ? v.ItemType : type;
        bool vector = type is VectorDataViewType;
        return itemType.RawType switch
        {
            var t when t == typeof(float) => vector ? Make<float[]>(name, type) : Make<float>(name, type),
            var t when t == typeof(double) => vector ? Make<double[]>(name, type) : Make<double>(name, type),
            var t when t == typeof(int) => vector ? Make<int[]>(name, type) : Make<int>(name, type),
            var t when t == typeof(bool) => vector ? Make<bool[]>(name, type) : Make<bool>(name, type),
            var t when t == typeof(ReadOnlyMemory<char>) => vector ? Make<string[]>(name, type) : Make<string>(name, type),
            _ => throw new ArgumentOutOfRangeException(nameof(type), $"No schema-shape recipe for column type {type}."),
        };
    }

    private static SchemaShape.Column Make<T>(string name, DataViewType type) => MakeFrom<Holder<T>>(name, type);

    /// <summary>The output column of a throw-away <c>CustomMapping</c> whose single property is renamed and retyped.</summary>
    internal static SchemaShape.Column MakeFrom<THolder>(string name, DataViewType type) where THolder : class, new()
    {
        var definition = SchemaDefinition.Create(typeof(THolder));
        definition[0].ColumnName = name;
        definition[0].ColumnType = type;
        var shape = s_context.Transforms
            .CustomMapping<Empty, THolder>(static (_, _) => { }, contractName: null, outputSchemaDefinition: definition)
            .GetOutputSchema(new SchemaShape([]));
        return shape.Single(c => c.Name == name);
    }

    private sealed class Empty
    {
    }

    private sealed class Holder<T>
    {
        public T Value { get; set; } = default!;
    }
}
