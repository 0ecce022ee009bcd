using Microsoft.ML.Data;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// Image decoding and encoding, and the ML.NET image column, for collection loading and writing. They need SkiaSharp and
/// Microsoft.ML.ImageAnalytics, which this package leaves out so that a rarity-only application stays small: the main
/// package (Microsoft.ML.DiffNft) implements this class, and it is found by name when that assembly is deployed with the
/// application — the way ML.NET's own component catalog finds loaders by assembly name.
/// </summary>
internal abstract class ImageSupport
{
    // The implementation in Microsoft.ML.DiffNft (Imaging/SkiaImageSupport.cs). Renaming it breaks image loading: a test
    // checks that it is found.
    private const string ImplementationTypeName = "Microsoft.ML.DiffNft.Imaging.SkiaImageSupport, Microsoft.ML.DiffNft";

    private static readonly Lazy<ImageSupport?> s_current = new(Find);

    /// <summary>The image support of this application, or null when only the rarity package is deployed.</summary>
    public static ImageSupport? Current => s_current.Value;

    /// <summary>The image support, or a clear error naming what needed it.</summary>
    /// <param name="what">What needs images, for the message (for example "Loading the images in 'x/images'").</param>
    public static ImageSupport Require(string what) => Current ?? throw new InvalidOperationException(
        $"{what} needs image decoding, which the Microsoft.ML.DiffNft package provides; this application has only " +
        "Microsoft.ML.DiffNft.Rarity. Reference Microsoft.ML.DiffNft, or work on metadata alone " +
        "(NftCollectionLoadOptions.LoadImages = false and no ImagesPath).");

    /// <summary>
    /// Decodes an image file; throws <see cref="InvalidDataException"/> naming the file when it is not a valid image, is
    /// truncated, or has more than <paramref name="maxPixels"/> pixels (checked before any pixel memory is allocated).
    /// </summary>
    public abstract RgbaImage Load(string path, long maxPixels);

    /// <summary>Encodes an image as PNG bytes.</summary>
    public abstract byte[] EncodePng(RgbaImage image);

    /// <summary>The ML.NET image column type for images of this size.</summary>
    public abstract DataViewType ImageColumnType(int height, int width);

    /// <summary>
    /// A <c>ValueGetter</c> of the image column type that gives, on each call, a new ML.NET image (owned by the caller)
    /// holding the pixels <paramref name="read"/> returns.
    /// </summary>
    public abstract Delegate ImageGetter(Func<RgbaImage> read);

    /// <summary>The schema-shape column for <paramref name="type"/> when it is an image type; otherwise null.</summary>
    public abstract SchemaShape.Column? SchemaShapeColumn(string name, DataViewType type);

    private static ImageSupport? Find() =>
        Type.GetType(ImplementationTypeName, throwOnError: false) is { } type
            ? (ImageSupport)Activator.CreateInstance(type, nonPublic: true)!
            : null;
}
