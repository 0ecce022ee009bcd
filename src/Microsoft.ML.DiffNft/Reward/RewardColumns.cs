using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>Reads and checks the columns the rarity reward trains on, with ML.NET's wording for schema errors.</summary>
internal static class RewardColumns
{
    /// <summary>Reads a Single or Double column as doubles.</summary>
    public static List<double> ReadScores(IExceptionContext host, IDataView data, string name)
    {
        var col = ColumnReaders.Find(host, data.Schema, name, "rarity score");
        var result = new List<double>();
        using var cursor = data.GetRowCursor(new[] { col });
        if (col.Type == NumberDataViewType.Single)
        {
            var getter = cursor.GetGetter<float>(col);
            float v = 0;
            while (cursor.MoveNext()) { getter(ref v); result.Add(v); }
        }
        else if (col.Type == NumberDataViewType.Double)
        {
            var getter = cursor.GetGetter<double>(col);
            double v = 0;
            while (cursor.MoveNext()) { getter(ref v); result.Add(v); }
        }
        else
        {
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for rarity score column '{name}': expected Single or Double, got {col.Type}"));
        }
        return result;
    }

    /// <summary>Reads a Boolean column.</summary>
    public static List<bool> ReadFlags(IExceptionContext host, IDataView data, string name)
    {
        var col = ColumnReaders.Find(host, data.Schema, name, "rare flag");
        if (col.Type != BooleanDataViewType.Instance)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for rare flag column '{name}': expected Boolean, got {col.Type}"));
        var result = new List<bool>();
        using var cursor = data.GetRowCursor(new[] { col });
        var getter = cursor.GetGetter<bool>(col);
        bool v = false;
        while (cursor.MoveNext()) { getter(ref v); result.Add(v); }
        return result;
    }

    /// <summary>Reads the token ids when the column exists (text), or returns null.</summary>
    public static List<string>? ReadOptionalTokenIds(IExceptionContext host, IDataView data, string name) =>
        data.Schema.GetColumnOrNull(name) is null ? null : ColumnReaders.ReadText(host, data, name, "token id");

    /// <summary>
    /// Reads a vector column of Single or Double as double arrays when it exists, or returns null. A column of another
    /// type is an error naming it.
    /// </summary>
    public static List<double[]>? ReadOptionalVectors(IExceptionContext host, IDataView data, string name, string role)
    {
        var found = data.Schema.GetColumnOrNull(name);
        if (found is null) return null;
        var col = found.Value;
        var item = (col.Type as VectorDataViewType)?.ItemType;
        if (item != NumberDataViewType.Single && item != NumberDataViewType.Double)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected Vector<Single> or Vector<Double>, got {col.Type}"));
        var result = new List<double[]>();
        using var cursor = data.GetRowCursor(new[] { col });
        if (item == NumberDataViewType.Single)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(col);
            VBuffer<float> v = default;
            while (cursor.MoveNext())
            {
                getter(ref v);
                result.Add(v.DenseValues().Select(x => (double)x).ToArray());
            }
        }
        else
        {
            var getter = cursor.GetGetter<VBuffer<double>>(col);
            VBuffer<double> v = default;
            while (cursor.MoveNext())
            {
                getter(ref v);
                result.Add(v.DenseValues().ToArray());
            }
        }
        return result;
    }

    /// <summary>Checks that a schema shape has an image column (image or text path).</summary>
    public static void CheckImage(IExceptionContext host, SchemaShape schema, string name) =>
        SchemaShapeChecks.CheckImage(host, schema, name, "image");

    /// <summary>Checks that a schema has an image column (image or text path).</summary>
    public static void CheckImage(IExceptionContext host, DataViewSchema schema, string name) =>
        ColumnReaders.FindImage(host, schema, name, "image");

    /// <summary>Checks the training columns of a schema shape: score (Single/Double), rare flag (Boolean), optional token id (String) and trait probabilities (vector).</summary>
    public static void CheckTraining(IExceptionContext host, SchemaShape schema, RarityRewardTrainerOptions options)
    {
        CheckImage(host, schema, options.ImageColumnName);
        var score = SchemaShapeChecks.Find(host, schema, options.ScoreColumnName, "rarity score");
        if (score.Kind != SchemaShape.Column.VectorKind.Scalar || (score.ItemType != NumberDataViewType.Single && score.ItemType != NumberDataViewType.Double))
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for rarity score column '{options.ScoreColumnName}': expected Single or Double, got {score.ItemType}"));
        var rare = SchemaShapeChecks.Find(host, schema, options.IsRareColumnName, "rare flag");
        if (rare.Kind != SchemaShape.Column.VectorKind.Scalar || rare.ItemType != BooleanDataViewType.Instance)
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for rare flag column '{options.IsRareColumnName}': expected Boolean, got {rare.ItemType}"));
        var traits = schema.FirstOrDefault(c => c.Name == options.TraitProbabilitiesColumnName);
        if (traits.Name is not null && (traits.Kind == SchemaShape.Column.VectorKind.Scalar || (traits.ItemType != NumberDataViewType.Single && traits.ItemType != NumberDataViewType.Double)))
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for trait probabilities column '{options.TraitProbabilitiesColumnName}': expected Vector<Single> or Vector<Double>, got {traits.ItemType}"));
        var id = schema.FirstOrDefault(c => c.Name == options.TokenIdColumnName);
        if (id.Name is not null && (id.Kind != SchemaShape.Column.VectorKind.Scalar || id.ItemType is not TextDataViewType))
            throw host.Process(new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for token id column '{options.TokenIdColumnName}': expected String, got {id.ItemType}"));
    }
}
