using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// The image support the rarity package finds by name (<see cref="ImageSupport"/>): decoding and encoding through
/// <see cref="PngCodec"/> (SkiaSharp) and ML.NET's image column.
/// </summary>
internal sealed class SkiaImageSupport : ImageSupport
{
    public override RgbaImage Load(string path, long maxPixels) => PngCodec.Load(path, maxPixels);

    public override byte[] EncodePng(RgbaImage image) => PngCodec.Encode(image);

    public override DataViewType ImageColumnType(int height, int width) => new ImageDataViewType(height, width);

    public override Delegate ImageGetter(Func<RgbaImage> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return (ValueGetter<MLImage>)((ref MLImage value) => value = read().ToMLImage());
    }

    public override SchemaShape.Column? SchemaShapeColumn(string name, DataViewType type) =>
        type is ImageDataViewType ? SchemaShapeOracle.MakeFrom<ImageHolder>(name, type) : null;

    // An MLImage property needs a sized [ImageType] before its ColumnType can be replaced by the real size.
    private sealed class ImageHolder
    {
        [ImageType(1, 1)]
        public MLImage? Value { get; set; }
    }
}
