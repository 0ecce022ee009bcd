namespace Microsoft.ML.DiffNft.Collections;

/// <summary>Options for <see cref="NftCollection.ToDataView"/>.</summary>
public sealed class NftCollectionDataViewOptions
{
    /// <summary>
    /// Add an <c>Image</c> column when every token has an image and all images have one size (an
    /// <c>ImageDataViewType</c> has a fixed size). Otherwise no image column is made. Default true.
    /// </summary>
    public bool IncludeImages { get; set; } = true;

    /// <summary>
    /// Add a <c>Caption</c> column: the tokens' captions when any token has one (empty text for those without); when none
    /// has, and <see cref="CaptionSubject"/> is set, a caption built from each token's traits
    /// (<see cref="NftCaptions.FromTraits"/>), so that a collection of traits and images alone — most real collections —
    /// trains a text-to-image model without a captions file. Default true.
    /// </summary>
    public bool IncludeCaptions { get; set; } = true;

    /// <summary>
    /// The opening words of captions built from traits when the collection has none (default "an nft"; e.g. "a toad"
    /// gives "a toad, background violet, body …"); null for no <c>Caption</c> column in that case.
    /// </summary>
    public string? CaptionSubject { get; set; } = "an nft";
}
