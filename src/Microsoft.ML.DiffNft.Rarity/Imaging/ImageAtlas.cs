using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Imaging;

/// <summary>
/// A sprite sheet of equally sized tiles (for example CrypToadz' <c>images-36x36-atlas.png</c>: 100 tiles of 36×36 per row).
/// Tiles are addressed by their top-left pixel or by a row-major tile index.
/// </summary>
internal sealed partial class ImageAtlas
{
    /// <summary>Wraps a sheet whose tiles are <paramref name="tileWidth"/>×<paramref name="tileHeight"/> pixels.</summary>
    public ImageAtlas(RgbaImage sheet, int tileWidth, int tileHeight)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        if (tileWidth <= 0 || tileWidth > sheet.Width)
            throw new ArgumentOutOfRangeException(nameof(tileWidth), tileWidth, $"The tile width must be between 1 and the sheet width {sheet.Width}.");
        if (tileHeight <= 0 || tileHeight > sheet.Height)
            throw new ArgumentOutOfRangeException(nameof(tileHeight), tileHeight, $"The tile height must be between 1 and the sheet height {sheet.Height}.");
        Sheet = sheet;
        TileWidth = tileWidth;
        TileHeight = tileHeight;
    }

    /// <summary>The whole sheet.</summary>
    public RgbaImage Sheet { get; }

    /// <summary>Tile width in pixels.</summary>
    public int TileWidth { get; }

    /// <summary>Tile height in pixels.</summary>
    public int TileHeight { get; }

    /// <summary>Whole tiles per row.</summary>
    public int Columns => Sheet.Width / TileWidth;

    /// <summary>Whole tile rows.</summary>
    public int Rows => Sheet.Height / TileHeight;

    /// <summary>How many whole tiles the sheet holds.</summary>
    public int Capacity => Columns * Rows;

    /// <summary>The top-left pixel of tile <paramref name="tileIndex"/>, counting row by row from the top left.</summary>
    public (int X, int Y) GetTileOrigin(int tileIndex)
    {
        if (tileIndex < 0 || tileIndex >= Capacity)
            throw new ArgumentOutOfRangeException(nameof(tileIndex), tileIndex, $"The atlas holds tiles 0 to {Capacity - 1}.");
        return (tileIndex % Columns * TileWidth, tileIndex / Columns * TileHeight);
    }

    /// <summary>Copies tile <paramref name="tileIndex"/> (row-major).</summary>
    public RgbaImage GetTile(int tileIndex)
    {
        var (x, y) = GetTileOrigin(tileIndex);
        return Sheet.Crop(x, y, TileWidth, TileHeight);
    }

    /// <summary>Copies the tile whose top-left pixel is (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public RgbaImage GetTile(int x, int y)
    {
        if (!Contains(x, y))
            throw new ArgumentOutOfRangeException(nameof(x),
                $"A {TileWidth}×{TileHeight} tile at ({x},{y}) lies outside the {Sheet.Width}×{Sheet.Height} atlas.");
        return Sheet.Crop(x, y, TileWidth, TileHeight);
    }

    /// <summary>True when a whole tile fits at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public bool Contains(int x, int y) => x >= 0 && y >= 0 && x + TileWidth <= Sheet.Width && y + TileHeight <= Sheet.Height;

    /// <summary>
    /// Reads a tile size written into a file name such as <c>images-36x36-atlas.png</c> (<c>W</c>x<c>H</c>, or ×).
    /// </summary>
    public static bool TryParseTileSize(string fileName, out int width, out int height)
    {
        width = height = 0;
        var m = SizeInName().Match(Path.GetFileNameWithoutExtension(fileName ?? ""));
        return m.Success
            && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out width)
            && int.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out height)
            && width > 0 && height > 0;
    }

    /// <summary>
    /// Infers the tile size from tile origins: the greatest common divisor of the x (and y) offsets.
    /// A sheet with one column or one row gives one dimension only; tiles are then taken to be square.
    /// </summary>
    public static bool TryInferTileSize(IEnumerable<(int X, int Y)> origins, out int width, out int height)
    {
        ArgumentNullException.ThrowIfNull(origins);
        int gx = 0, gy = 0;
        foreach (var (x, y) in origins)
        {
            gx = Gcd(gx, x);
            gy = Gcd(gy, y);
        }
        if (gx == 0) gx = gy;
        if (gy == 0) gy = gx;
        width = gx;
        height = gy;
        return gx > 0;
    }

    private static int Gcd(int a, int b)
    {
        a = Math.Abs(a);
        b = Math.Abs(b);
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    [GeneratedRegex(@"(?<![0-9])([0-9]{1,5})[x×]([0-9]{1,5})(?![0-9])", RegexOptions.IgnoreCase)]
    private static partial Regex SizeInName();
}
