using Microsoft.ML.DiffNft.Collections;

namespace Microsoft.ML;

/// <summary>Loading NFT collections through <c>mlContext.Data</c>.</summary>
public static class DataCatalogExtensions
{
    /// <summary>
    /// Loads an NFT collection (per-token JSON files, <c>_metadata.json</c>, JSON Lines, long or wide CSV, with images
    /// when found) as an <see cref="IDataView"/>: <c>TokenId</c>, one text column per trait type, and <c>Image</c> when
    /// every token has an image of one size. See <see cref="NftCollectionLoader.Load"/> and <see cref="NftCollection.ToDataView"/>.
    /// </summary>
    /// <param name="catalog">The data catalog (<c>mlContext.Data</c>).</param>
    /// <param name="path">A collection file or folder.</param>
    /// <param name="options">Load options; null for the defaults.</param>
    /// <param name="dataViewOptions">Which optional columns to make; null for the defaults.</param>
    public static IDataView LoadNftCollection(this DataOperationsCatalog catalog, string path,
        NftCollectionLoadOptions? options = null, NftCollectionDataViewOptions? dataViewOptions = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return NftCollectionLoader.Load(path, options).ToDataView(dataViewOptions);
    }

    /// <summary>
    /// The names of the trait columns of a collection view (or of a view derived from it), in schema order: the columns
    /// that carry the <c>TraitType</c> annotation <see cref="LoadNftCollection"/> puts on each trait column.
    /// </summary>
    /// <param name="catalog">The data catalog (<c>mlContext.Data</c>).</param>
    /// <param name="data">The collection view.</param>
    /// <param name="includeNumeric">Whether to include traits whose values are numbers (levels, counts); default false,
    /// as rarity scoring leaves them out by default.</param>
    public static string[] GetNftTraitColumnNames(this DataOperationsCatalog catalog, IDataView data, bool includeNumeric = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        return NftSchema.GetTraitColumns(data.Schema).Where(c => includeNumeric || !c.IsNumeric).Select(c => c.ColumnName).ToArray();
    }
}
