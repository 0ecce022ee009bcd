using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.Transforms.Image;
using Xunit;
using static Microsoft.ML.DiffNft.Tests.Collections.CollectionTestData;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>The collection as an ML.NET IDataView: schema, annotations, values, images and use by ML.NET transforms.</summary>
public class DataViewTests
{
    private sealed class ToadRow
    {
        public string TokenId { get; set; } = "";
        public string Background { get; set; } = "";
        [ColumnName("Accessory_II")] public string AccessoryII { get; set; } = "";
        [ColumnName("Traits")] public string TraitCount { get; set; } = "";
    }

    [Fact]
    public void CryptoadzSchemaHasSafeNamesAndAnnotations()
    {
        var view = Cryptoadz.ToDataView();
        Assert.Equal(7025, view.GetRowCount());
        Assert.False(view.CanShuffle);
        var names = view.Schema.Select(c => c.Name).ToList();
        Assert.Equal("TokenId", names[0]);
        Assert.Equal("Image", names[^1]);
        // The trait columns, and captions built from the traits (CrypToadz has no captions file).
        Assert.Equal(
            ["Accessory_I", "Accessory_II", "Background", "Body", "Caption", "Clothes", "Custom", "Eyes", "Head", "Mouth", "Name", "Size", "Traits"],
            names.Skip(1).SkipLast(1).Order(StringComparer.Ordinal));
        var image = Assert.IsType<ImageDataViewType>(view.Schema["Image"].Type);
        Assert.Equal((36, 36), (image.Height, image.Width));

        var traits = NftSchema.GetTraitColumns(view.Schema);
        Assert.Equal(Cryptoadz.GetTraitColumns(), traits);
        Assert.Equal(new NftTraitColumn("Traits", "# Traits", true), traits.Single(t => t.ColumnName == "Traits"));
        Assert.Equal(new NftTraitColumn("Accessory_II", "Accessory II", false), traits.Single(t => t.ColumnName == "Accessory_II"));
        Assert.Single(traits, t => t.IsNumeric);
    }

    [Fact]
    public void CursorReadsEveryValue()
    {
        var c = Cryptoadz;
        var view = c.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false });
        Assert.Null(view.Schema.GetColumnOrNull("Image"));
        var traits = c.GetTraitColumns();
        using var cursor = view.GetRowCursor(view.Schema);
        var idGetter = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["TokenId"]);
        var getters = traits.Select(t => cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[t.ColumnName])).ToArray();
        var nonEmpty = new int[traits.Count];
        int row = 0;
        ReadOnlyMemory<char> value = default;
        Assert.Equal(-1, cursor.Position);
        while (cursor.MoveNext())
        {
            var token = c.Tokens[row];
            idGetter(ref value);
            Assert.Equal(token.TokenId, value.ToString());
            for (int i = 0; i < traits.Count; i++)
            {
                getters[i](ref value);
                Assert.Equal(token.Find(traits[i].TraitType)?.Value ?? "", value.ToString());
                if (!value.IsEmpty) nonEmpty[i]++;
            }
            row++;
        }
        Assert.Equal(7025, row);
        Assert.Equal(-1, cursor.Position);
        Assert.Equal(6880, nonEmpty[traits.ToList().FindIndex(t => t.TraitType == "Background")]);
        Assert.Equal(63, nonEmpty[traits.ToList().FindIndex(t => t.TraitType == "Name")]);
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(view.Schema["Background"]));
    }

    [Fact]
    public void CreateEnumerableAndMapValueToKeyConsumeTheView()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadNftCollection(CryptoadzJsonl, new NftCollectionLoadOptions { LoadImages = false });
        Assert.Equal(7025, view.GetRowCount());
        Assert.Null(view.Schema.GetColumnOrNull("Image"));
        var rows = ml.Data.CreateEnumerable<ToadRow>(view, reuseRowObject: false).ToList();
        Assert.Equal(7025, rows.Count);
        Assert.Equal(("1", "95", "Long Cigarette", "4"), (rows[0].TokenId, rows[0].Background, rows[0].AccessoryII, rows[0].TraitCount));
        Assert.Equal("56000000", rows[^1].TokenId);

        var model = ml.Transforms.Conversion.MapValueToKey("BackgroundKey", "Background").Fit(view);
        var transformed = model.Transform(view);
        var keyType = Assert.IsType<KeyDataViewType>(transformed.Schema["BackgroundKey"].Type);
        var distinct = Cryptoadz.Tokens.Select(t => t.Find("Background")?.Value).Where(v => v is not null).Distinct().Count();
        // ML.NET treats empty text as missing: it gets key 0, not a slot of its own.
        Assert.Equal((ulong)distinct, keyType.Count);
        var keys = transformed.GetColumn<uint>("BackgroundKey").ToList();
        Assert.Equal(7025 - 6880, keys.Count(k => k == 0));
        // The trait columns are still found by annotation after a transform.
        Assert.Equal(12, NftSchema.GetTraitColumns(transformed.Schema).Count);
    }

    [Fact]
    public void ImageColumnHoldsRgbaPixelsUnchanged()
    {
        var view = Cryptoadz.ToDataView();
        using var cursor = view.GetRowCursor([view.Schema["Image"]]);
        var getter = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        Assert.True(cursor.MoveNext());
        MLImage image = null!;
        getter(ref image);
        using (image)
        {
            Assert.Equal(MLPixelFormat.Rgba32, image.PixelFormat);
            Assert.Equal((36, 36), (image.Width, image.Height));
            int i = (18 * 36 + 18) * 4;
            Assert.Equal(new byte[] { 255, 14, 14, 255 }, image.Pixels[i..(i + 4)].ToArray()); // token 1 at (18,18), see the atlas test
            Assert.True(image.ToRgbaImage().PixelEquals(Cryptoadz.Tokens[0].Image!));
        }
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["TokenId"])); // not active
    }

    [Fact]
    public void ExtractPixelsReadsTheImageColumnAsRgb()
    {
        var ml = new MLContext(seed: 1);
        var few = new NftCollection(Cryptoadz.Tokens.Take(3).ToList());
        var view = few.ToDataView();
        var pixels = ml.Transforms.ExtractPixels("Pixels", "Image").Fit(view).Transform(view)
            .GetColumn<VBuffer<float>>("Pixels").First().DenseValues().ToArray();
        // Planar R, G, B (ExtractPixels' default): token 1 at (18,18) is (255, 14, 14), as the atlas test decoded independently.
        int p = 18 * 36 + 18, plane = 36 * 36;
        Assert.Equal(3 * plane, pixels.Length);
        Assert.Equal([255f, 14f, 14f], new[] { pixels[p], pixels[plane + p], pixels[2 * plane + p] });
        Assert.Equal([0f, 128f, 128f], new[] { pixels[0], pixels[plane], pixels[2 * plane] });
    }

    [Fact]
    public void MLImageConversionKeepsByteOrderAndStraightAlpha()
    {
        var image = new RgbaImage(3, 2);
        image.SetPixel(0, 0, 10, 20, 30, 128);
        image.SetPixel(2, 1, 200, 100, 50, 1);
        image.SetPixel(1, 0, 255, 0, 0, 0);
        using var ml = image.ToMLImage();
        Assert.Equal(MLPixelFormat.Rgba32, ml.PixelFormat);
        Assert.Equal(new byte[] { 10, 20, 30, 128 }, ml.Pixels[..4].ToArray());
        Assert.Equal(new byte[] { 200, 100, 50, 1 }, ml.Pixels[20..24].ToArray());
        Assert.True(ml.ToRgbaImage().PixelEquals(image));
    }

    [Fact]
    public void ColumnNamesAreSafeUniqueAndAvoidReservedNames()
    {
        var c = new NftCollection(
        [
            new NftToken("1", [new("Accessory II", "a"), new("# Traits", "3", NftValueKind.Number), new("Accessory_II", "b"), new("TokenId", "c"),
                new("Image", "d"), new(NftAttribute.UntypedTraitType, "e"), new("#", "f"), new("4:20 watch", "g"), new("Größe", "h"), new("Accessory-II", "i")])
            { Caption = "a token" },
            new NftToken("2", [new("# Traits", "x")]),
        ]);
        Assert.Equal(
            ["Accessory_II", "Traits", "Accessory_II_2", "TokenId_2", "Image_2", "untyped", "Trait", "4_20_watch", "Größe", "Accessory_II_3"],
            c.GetTraitColumns().Select(t => t.ColumnName));
        Assert.True(c.GetTraitColumns()[1].IsNumeric); // numeric when any token's value is a number
        var view = c.ToDataView();
        Assert.Equal(["TokenId", .. c.GetTraitColumns().Select(t => t.ColumnName), "Caption"], view.Schema.Select(col => col.Name));
        var captions = view.GetColumn<ReadOnlyMemory<char>>("Caption").Select(m => m.ToString()).ToList();
        Assert.Equal(["a token", ""], captions);
        Assert.Equal(c.GetTraitColumns(), NftSchema.GetTraitColumns(view.Schema));
    }

    [Fact]
    public void NoImageColumnWhenSizesDiffer()
    {
        var c = new NftCollection(
        [
            new NftToken("1", []) { Image = new RgbaImage(2, 2) },
            new NftToken("2", []) { Image = new RgbaImage(3, 2) },
        ]);
        Assert.Null(c.ToDataView().Schema.GetColumnOrNull("Image"));
        Assert.Equal(["TokenId"], c.ToDataView().Schema.Select(col => col.Name));
    }
}
