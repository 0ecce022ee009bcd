namespace Microsoft.ML.DiffNft.Collections;

/// <summary>Options for <see cref="NftCollectionLoader.Load"/>.</summary>
public sealed class NftCollectionLoadOptions
{
    /// <summary>The metadata layout; <see cref="NftCollectionFormat.Auto"/> (the default) detects it.</summary>
    public NftCollectionFormat Format { get; set; } = NftCollectionFormat.Auto;

    /// <summary>
    /// Where the images are: a folder of files named by token id (<c>1.png</c>, <c>0001.jpg</c>, …), an atlas image, an
    /// atlas index CSV, or a folder holding an atlas and its index. Null (the default) looks beside the metadata when
    /// <see cref="LoadImages"/> is true.
    /// </summary>
    public string? ImagesPath { get; set; }

    /// <summary>
    /// Whether to look for images beside the metadata when <see cref="ImagesPath"/> is not set: an <c>images/</c> folder
    /// (also the parent's, for a <c>metadata/</c> or <c>json/</c> folder), an atlas with an index, or id-named image files.
    /// Default true.
    /// </summary>
    public bool LoadImages { get; set; } = true;

    /// <summary>
    /// Whether to read <c>captions.csv</c> (<c>token_id,caption</c>) beside the metadata, or beside its <c>metadata/</c>
    /// folder, into <see cref="NftToken.Caption"/>. Not read for a single per-token file. Default true.
    /// </summary>
    public bool LoadCaptions { get; set; } = true;

    /// <summary>
    /// The most pixels an image (or an atlas sheet) may have: 4096×4096 by default. A larger image is refused with an
    /// error naming its file before any pixel memory is allocated, so a crafted header cannot exhaust memory; raise it
    /// for collections of larger art.
    /// </summary>
    public long MaxImagePixels { get; set; } = 4096L * 4096;

    /// <summary>Tile width of an atlas. Default: read from the atlas file name (<c>…-36x36-…</c>) or inferred from the index offsets.</summary>
    public int? AtlasTileWidth { get; set; }

    /// <summary>Tile height of an atlas; when only one of width and height is set, tiles are square.</summary>
    public int? AtlasTileHeight { get; set; }

    /// <summary>The collection's display name. Default: the folder name (or the file name, unless it is a generic one such as <c>metadata.jsonl</c>).</summary>
    public string? Name { get; set; }
}
