using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Finds and loads token images: a folder of files named by token id (<c>{id}.png</c>, <c>0001.jpg</c>, …) or an
/// atlas (a sprite sheet plus an index CSV, as CrypToadz ships). Images are decoded only for tokens of the collection.
/// </summary>
internal static class ImageSources
{
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    /// <summary>
    /// Loads images from an explicit path (a folder, an atlas image or an atlas index) and sets them on the tokens.
    /// Throws when the path exists but no image in it belongs to a token: that is almost always a wrong path.
    /// </summary>
    /// <returns>Where the images came from.</returns>
    public static CollectionImageOrigin AttachExplicit(IReadOnlyList<NftToken> tokens, string path, NftCollectionLoadOptions options)
    {
        string full = Path.GetFullPath(path);
        int found;
        CollectionImageOrigin origin;
        if (Directory.Exists(full))
        {
            (found, origin) = FindAtlas(full) is { } atlas
                ? (AttachAtlas(tokens, atlas.Sheet, atlas.Index, options), new CollectionImageOrigin(atlas.Index, IsAtlas: true))
                : (AttachFolder(tokens, full, options.MaxImagePixels), new CollectionImageOrigin(full, IsAtlas: false));
        }
        else if (File.Exists(full))
        {
            string dir = Path.GetDirectoryName(full)!;
            string index = string.Equals(Path.GetExtension(full), ".csv", StringComparison.OrdinalIgnoreCase) ? full
                : FindAtlasIndex(dir) ?? throw new InvalidDataException(
                    $"Atlas image '{full}' has no index beside it: expected a CSV file whose name contains 'atlas' and 'index' (such as atlas-index.csv) in '{dir}'.");
            string sheet = index != full ? full : FindAtlasSheet(dir) ?? throw new InvalidDataException(
                $"Atlas index '{full}' has no atlas image beside it: expected one image file whose name contains 'atlas' in '{dir}'.");
            found = AttachAtlas(tokens, sheet, index, options);
            origin = new CollectionImageOrigin(index, IsAtlas: true);
        }
        else
        {
            throw new DirectoryNotFoundException($"Images path '{full}' does not exist.");
        }
        if (found == 0 && tokens.Count > 0)
            throw new InvalidDataException(
                $"No image in '{full}' belongs to a token of the collection: expected files named by token id (for example '{tokens[0].TokenId}.png') or an atlas whose index lists token ids.");
        return origin;
    }

    /// <summary>
    /// Looks for images next to the metadata, in order: an <c>images/</c> folder, an atlas, id-named image files;
    /// the first folder of <paramref name="directories"/> holding any of these wins. Returns where the images came from
    /// (even when no token had one there), or null when no folder holds any.
    /// </summary>
    public static CollectionImageOrigin? AttachAuto(IReadOnlyList<NftToken> tokens, IEnumerable<string> directories, NftCollectionLoadOptions options)
    {
        foreach (var dir in directories.Where(Directory.Exists).Distinct(StringComparer.Ordinal))
        {
            string images = Path.Combine(dir, "images");
            if (Directory.Exists(images))
            {
                if (FindAtlas(images) is { } inImages) return Atlas(tokens, inImages, options);
                AttachFolder(tokens, images, options.MaxImagePixels);
                return new CollectionImageOrigin(images, IsAtlas: false);
            }
            if (FindAtlas(dir) is { } atlas) return Atlas(tokens, atlas, options);
            if (ListImageFiles(dir).Count > 0)
            {
                AttachFolder(tokens, dir, options.MaxImagePixels);
                return new CollectionImageOrigin(dir, IsAtlas: false);
            }
        }
        return null;
    }

    private static CollectionImageOrigin Atlas(IReadOnlyList<NftToken> tokens, (string Sheet, string Index) atlas, NftCollectionLoadOptions options)
    {
        AttachAtlas(tokens, atlas.Sheet, atlas.Index, options);
        return new CollectionImageOrigin(atlas.Index, IsAtlas: true);
    }

    private static (string Sheet, string Index)? FindAtlas(string dir) =>
        FindAtlasIndex(dir) is string index && FindAtlasSheet(dir) is string sheet ? (sheet, index) : null;

    private static string? FindAtlasIndex(string dir)
    {
        var found = Directory.EnumerateFiles(dir, "*.csv")
            .Where(p => Path.GetFileName(p).Contains("atlas", StringComparison.OrdinalIgnoreCase)
                     && Path.GetFileName(p).Contains("index", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new InvalidDataException($"'{dir}' holds several atlas indexes ({string.Join(", ", found.Select(Path.GetFileName))}); pass one as the images path."),
        };
    }

    private static string? FindAtlasSheet(string dir)
    {
        var found = Directory.EnumerateFiles(dir)
            .Where(p => IsImageFile(p) && Path.GetFileName(p).Contains("atlas", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        return found.Count switch
        {
            0 => null,
            1 => found[0],
            _ => throw new InvalidDataException($"'{dir}' holds several atlas images ({string.Join(", ", found.Select(Path.GetFileName))}); pass one as the images path."),
        };
    }

    private static bool IsImageFile(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    // Image files named by a token id, by canonical id.
    private static Dictionary<string, string> ListImageFiles(string dir)
    {
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            if (!IsImageFile(path) || !TokenIds.TryCanonical(Path.GetFileNameWithoutExtension(path), out var id)) continue;
            if (byId.TryGetValue(id, out var other))
                throw new InvalidDataException($"Token {id} has two images: '{other}' and '{path}'. Keep one image per token.");
            byId.Add(id, path);
        }
        return byId;
    }

    private static int AttachFolder(IReadOnlyList<NftToken> tokens, string dir, long maxPixels)
    {
        var files = ListImageFiles(dir);
        var work = new List<(NftToken Token, string Path)>();
        foreach (var t in tokens)
            if (files.TryGetValue(t.TokenId, out var p)) work.Add((t, p));
        // Decoding dominates; tokens are independent, so decode in parallel (each task writes only its own token).
        var images = ImageSupport.Require($"Loading the images in '{dir}'");
        ParallelLoop.For(work.Count, i =>
        {
            work[i].Token.Image = images.Load(work[i].Path, maxPixels);
            work[i].Token.ImagePath = work[i].Path;
        });
        return work.Count;
    }

    private static int AttachAtlas(IReadOnlyList<NftToken> tokens, string sheetPath, string indexPath, NftCollectionLoadOptions options)
    {
        var index = AtlasIndex.Read(indexPath);
        var sheet = ImageSupport.Require($"Loading the atlas '{sheetPath}'").Load(sheetPath, options.MaxImagePixels);
        int w, h;
        if (options.AtlasTileWidth is int ow && options.AtlasTileHeight is int oh) (w, h) = (ow, oh);
        else if (options.AtlasTileWidth is int only) (w, h) = (only, only);
        else if (options.AtlasTileHeight is int onlyH) (w, h) = (onlyH, onlyH);
        else if (ImageAtlas.TryParseTileSize(sheetPath, out w, out h)) { }
        else if (!ImageAtlas.TryInferTileSize(index.Entries.Where(e => e.X is not null).Select(e => (e.X!.Value, e.Y!.Value)), out w, out h))
            throw new InvalidDataException(
                $"Cannot tell the tile size of atlas '{sheetPath}': its name has no WxH and '{indexPath}' gives no tile offsets; set {nameof(NftCollectionLoadOptions.AtlasTileWidth)} and {nameof(NftCollectionLoadOptions.AtlasTileHeight)}.");
        if (w > sheet.Width || h > sheet.Height)
            throw new InvalidDataException($"Atlas '{sheetPath}' is {sheet.Width}×{sheet.Height}, smaller than one {w}×{h} tile.");
        var atlas = new ImageAtlas(sheet, w, h);

        var byId = new Dictionary<string, NftToken>(tokens.Count, StringComparer.Ordinal);
        foreach (var t in tokens) byId[t.TokenId] = t;
        int count = 0;
        foreach (var e in index.Entries)
        {
            if (!byId.TryGetValue(e.TokenId, out var token)) continue;
            int x, y;
            if (e.X is int ex && e.Y is int ey) (x, y) = (ex, ey);
            else if (e.TileIndex is int ti && ti < atlas.Capacity) (x, y) = atlas.GetTileOrigin(ti);
            else throw FormatErrors.At(new SourceLocation(indexPath, e.Line, TokenId: e.TokenId),
                $"tile_index {e.TileIndex} is beyond the {atlas.Capacity} tiles of {w}×{h} in the {sheet.Width}×{sheet.Height} atlas '{sheetPath}'.");
            if (!atlas.Contains(x, y))
                throw FormatErrors.At(new SourceLocation(indexPath, e.Line, TokenId: e.TokenId),
                    $"a {w}×{h} tile at ({x},{y}) lies outside the {sheet.Width}×{sheet.Height} atlas '{sheetPath}'.");
            token.Image = atlas.GetTile(x, y);
            token.ImagePath = sheetPath;
            count++;
        }
        return count;
    }
}
