using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>One input column that holds a trait type.</summary>
/// <param name="ColumnName">The column's name.</param>
/// <param name="TraitType">The trait type as written in the source (annotation <c>TraitType</c>, else the column name).</param>
/// <param name="IsNumeric">Whether the column is annotated <c>TraitIsNumeric</c> = true.</param>
internal readonly record struct TraitColumn(string ColumnName, string TraitType, bool IsNumeric);

/// <summary>Finds and checks the trait columns of an input schema.</summary>
internal static class TraitColumnSelector
{
    private const string TraitTypeAnnotation = NftSchema.TraitTypeAnnotation;
    private const string TraitIsNumericAnnotation = NftSchema.TraitIsNumericAnnotation;

    /// <summary>Columns of a loaded collection that are never traits.</summary>
    public static readonly IReadOnlyList<string> NonTraitColumns =
        [NftSchema.TokenIdColumnName, NftSchema.ImageColumnName, NftSchema.CaptionColumnName];

    /// <summary>
    /// Resolves the trait columns to fit on, applying the numeric-trait rule. Automatic detection uses text columns
    /// only; the non-text columns it passes over that could have held traits are logged as a warning on
    /// <paramref name="ectx"/>'s channel and named in the error when no trait column is found, so that trait columns
    /// turned into keys or numbers earlier in a chain are not left out silently.
    /// </summary>
    public static TraitColumn[] Resolve(IHost ectx, DataViewSchema schema, TraitRarityOptions options)
    {
        var result = new List<TraitColumn>();
        if (options.TraitColumnNames is { } names)
        {
            foreach (string name in names)
            {
                var column = FindText(ectx, schema, name);
                var trait = Describe(column);
                if (trait.IsNumeric && options.NumericTraits == NumericTraitHandling.Exclude)
                    throw ectx.Process(new ArgumentOutOfRangeException(nameof(options.TraitColumnNames),
                        $"Trait column '{name}' holds a numeric trait, which OpenRarity does not score. Leave it out, or set " +
                        $"{nameof(TraitRarityOptions)}.{nameof(TraitRarityOptions.NumericTraits)} = {nameof(NumericTraitHandling.TreatAsString)} to score its values as text."));
                result.Add(trait);
            }
        }
        else
        {
            var candidates = schema.Where(c => !c.IsHidden && c.Type is TextDataViewType).ToList();
            bool annotated = candidates.Any(c => c.Annotations.Schema.GetColumnOrNull(TraitTypeAnnotation) is not null);
            foreach (var column in candidates)
            {
                if (annotated ? column.Annotations.Schema.GetColumnOrNull(TraitTypeAnnotation) is null : NonTraitColumns.Contains(column.Name))
                    continue;
                var trait = Describe(column);
                if (trait.IsNumeric && options.NumericTraits == NumericTraitHandling.Exclude)
                    continue;
                result.Add(trait);
            }
            // Columns that would have been candidates but for their type: with annotations, those annotated as traits;
            // without, every column but the collection's non-trait ones.
            var skipped = schema.Where(c => !c.IsHidden && c.Type is not TextDataViewType && (annotated
                    ? c.Annotations.Schema.GetColumnOrNull(TraitTypeAnnotation) is not null
                    : !NonTraitColumns.Contains(c.Name)))
                .Select(c => $"'{c.Name}' ({c.Type})").ToList();
            string skippedText = skipped.Count == 0 ? "" :
                $" Skipped {skipped.Count} column(s) that are not text: {string.Join(", ", skipped)}; trait values must be text " +
                "(map keys back to values, or name the trait columns in TraitRarityOptions.TraitColumnNames).";
            if (result.Count == 0)
                throw ectx.Process(new ArgumentOutOfRangeException("inputSchema",
                    "Found no trait columns: trait rarity needs at least one text column of trait values (besides TokenId, " +
                    "Image and Caption), or name them in TraitRarityOptions.TraitColumnNames." + skippedText));
            if (skipped.Count > 0)
            {
                using var ch = ectx.Start(nameof(TraitColumnSelector));
                ch.Warning(MessageSensitivity.None, $"Trait rarity found {result.Count} trait column(s) automatically.{skippedText}");
            }
        }

        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var trait in result)
        {
            string normalized = TraitText.Normalize(trait.TraitType);
            if (options.IncludeTraitCount && normalized == TraitText.TraitCountName)
                throw ectx.Process(new ArgumentOutOfRangeException(nameof(options.TraitColumnNames),
                    $"Trait column '{trait.ColumnName}' is named '{TraitText.TraitCountName}', the name of OpenRarity's synthetic " +
                    "trait count. Rename it, or turn IncludeTraitCount off."));
            if (!byName.TryAdd(normalized, trait.ColumnName))
                throw ectx.Process(new ArgumentOutOfRangeException(nameof(options.TraitColumnNames),
                    $"Trait columns '{byName[normalized]}' and '{trait.ColumnName}' are the same trait type '{normalized}' once " +
                    "trimmed and lower-cased, as OpenRarity compares names. Merge them into one column."));
        }
        return result.ToArray();
    }

    /// <summary>Finds a text column by name, with ML.NET's wording when it is missing or of another type.</summary>
    public static DataViewSchema.Column FindText(IExceptionContext ectx, DataViewSchema schema, string name)
    {
        if (string.IsNullOrEmpty(name))
            throw ectx.Process(new ArgumentOutOfRangeException(nameof(TraitRarityOptions.TraitColumnNames), "A trait column name cannot be null or empty."));
        var column = schema.GetColumnOrNull(name)
            ?? throw ectx.Process(new ArgumentOutOfRangeException("inputSchema", $"Could not find input column '{name}'"));
        if (column.Type is not TextDataViewType)
            throw ectx.Process(new ArgumentOutOfRangeException("inputSchema",
                $"Schema mismatch for input column '{name}': expected {TextDataViewType.Instance}, got {column.Type}"));
        return column;
    }

    /// <summary>Checks the trait columns of a schema shape (its annotation values are not available, only their presence).</summary>
    public static void Check(IExceptionContext ectx, SchemaShape shape, TraitRarityOptions options)
    {
        if (options.TraitColumnNames is { } names)
        {
            foreach (string name in names)
            {
                if (string.IsNullOrEmpty(name))
                    throw ectx.Process(new ArgumentOutOfRangeException(nameof(TraitRarityOptions.TraitColumnNames), "A trait column name cannot be null or empty."));
                var column = shape.FirstOrDefault(c => c.Name == name);
                if (column.Name is null)
                    throw ectx.Process(new ArgumentOutOfRangeException("inputSchema", $"Could not find input column '{name}'"));
                if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
                    throw ectx.Process(new ArgumentOutOfRangeException("inputSchema",
                        $"Schema mismatch for input column '{name}': expected {TextDataViewType.Instance}, got {Describe(column)}"));
            }
        }
        else if (!shape.Any(c => c.Kind == SchemaShape.Column.VectorKind.Scalar && c.ItemType is TextDataViewType && !NonTraitColumns.Contains(c.Name)))
        {
            throw ectx.Process(new ArgumentOutOfRangeException("inputSchema",
                "Found no trait columns: trait rarity needs at least one text column of trait values (besides TokenId, " +
                "Image and Caption), or name them in TraitColumnNames."));
        }
    }

    private static TraitColumn Describe(DataViewSchema.Column column)
    {
        string traitType = column.Name;
        var annotations = column.Annotations;
        if (annotations.Schema.GetColumnOrNull(TraitTypeAnnotation) is { Type: TextDataViewType })
        {
            var text = default(ReadOnlyMemory<char>);
            annotations.GetValue(TraitTypeAnnotation, ref text);
            if (!text.IsEmpty) traitType = text.ToString();
        }
        bool numeric = false;
        if (annotations.Schema.GetColumnOrNull(TraitIsNumericAnnotation) is { Type: BooleanDataViewType })
            annotations.GetValue(TraitIsNumericAnnotation, ref numeric);
        return new TraitColumn(column.Name, traitType, numeric);
    }

    private static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Vector => $"Vector<{column.ItemType}>",
        SchemaShape.Column.VectorKind.VariableVector => $"VarVector<{column.ItemType}>",
        _ => column.ItemType.ToString()!,
    };
}
