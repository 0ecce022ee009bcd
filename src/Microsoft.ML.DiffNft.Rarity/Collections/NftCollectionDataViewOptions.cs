namespace Microsoft.ML.DiffNft.Collections;

/// <summary>Options for <see cref="NftCollection.ToDataView"/>.</summary>
public sealed class NftCollectionDataViewOptions
{
    /// <summary>
    /// Add an <c>Image</c> column when every token has an image and all images have one size (an
    /// <c>ImageDataViewType</c> has a fixed size). Otherwise no image column is made. Default true.
    /// </summary>
    public bool IncludeImages { get; set; } = true;

    /// <summary>Add a <c>Caption</c> column when any token has a caption (empty text for those without). Default true.</summary>
    public bool IncludeCaptions { get; set; } = true;
}
