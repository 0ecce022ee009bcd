namespace Microsoft.ML.DiffNft.Collections;

/// <summary>One trait type of a collection as a column of its <c>IDataView</c>.</summary>
/// <param name="ColumnName">The column's name: the trait type reduced to letters, digits and '_' ("Accessory II" → "Accessory_II").</param>
/// <param name="TraitType">The trait type exactly as in the metadata.</param>
/// <param name="IsNumeric">True when any token's value for it is a number.</param>
public sealed record NftTraitColumn(string ColumnName, string TraitType, bool IsNumeric);
