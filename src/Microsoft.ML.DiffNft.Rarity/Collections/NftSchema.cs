using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Column and annotation names of the <c>IDataView</c> made by <see cref="NftCollection.ToDataView"/>, and a way to
/// find the trait columns of any such view (or of a view derived from one) from its schema alone.
/// </summary>
public static class NftSchema
{
    /// <summary>The token id column (text).</summary>
    public const string TokenIdColumnName = "TokenId";

    /// <summary>The image column (<c>ImageDataViewType</c> holding <c>MLImage</c>), present when every token has an image of one size and Microsoft.ML.DiffNft (which decodes images) is deployed.</summary>
    public const string ImageColumnName = "Image";

    /// <summary>The caption column (text), present when tokens have captions.</summary>
    public const string CaptionColumnName = "Caption";

    /// <summary>Annotation on each trait column: the original trait type (text).</summary>
    public const string TraitTypeAnnotation = "TraitType";

    /// <summary>Annotation on each trait column: true when any token's value is a number (bool).</summary>
    public const string TraitIsNumericAnnotation = "TraitIsNumeric";

    /// <summary>
    /// The trait columns of a schema: every visible column carrying a text <see cref="TraitTypeAnnotation"/>, in
    /// schema order. Works on any view loaded by this package and keeps working after transforms that pass
    /// annotations through.
    /// </summary>
    public static IReadOnlyList<NftTraitColumn> GetTraitColumns(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var result = new List<NftTraitColumn>();
        foreach (var column in schema)
        {
            if (column.IsHidden) continue;
            var annotations = column.Annotations;
            var typeColumn = annotations.Schema.GetColumnOrNull(TraitTypeAnnotation);
            if (typeColumn is not { Type: TextDataViewType }) continue;
            ReadOnlyMemory<char> traitType = default;
            annotations.GetValue(TraitTypeAnnotation, ref traitType);
            bool numeric = false;
            if (annotations.Schema.GetColumnOrNull(TraitIsNumericAnnotation) is { Type: BooleanDataViewType })
                annotations.GetValue(TraitIsNumericAnnotation, ref numeric);
            result.Add(new NftTraitColumn(column.Name, traitType.ToString(), numeric));
        }
        return result;
    }
}
