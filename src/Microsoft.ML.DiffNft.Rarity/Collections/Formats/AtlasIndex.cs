using System.Globalization;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// The index of an image atlas: a CSV with a token id column and either the tile's top-left pixel (<c>x</c>, <c>y</c>)
/// or its row-major <c>tile_index</c> (CrypToadz' <c>atlas-index.csv</c> has both; other columns are ignored).
/// </summary>
internal sealed class AtlasIndex
{
    /// <summary>One tile: the token it shows, where it is, and the index line that said so.</summary>
    public readonly record struct Entry(string TokenId, int? TileIndex, int? X, int? Y, int Line);

    private AtlasIndex(string path, List<Entry> entries)
    {
        Path = path;
        Entries = entries;
    }

    /// <summary>The index file.</summary>
    public string Path { get; }

    /// <summary>The tiles, in file order.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Reads an index file.</summary>
    public static AtlasIndex Read(string path)
    {
        var csv = CsvReader.Open(path);
        var header = csv.ReadHeader();
        int idCol = CsvColumns.Find(header, CsvColumns.TokenId);
        int tileCol = CsvColumns.Find(header, ["tile_index", "tile", "index"]);
        int xCol = CsvColumns.Find(header, ["x"]);
        int yCol = CsvColumns.Find(header, ["y"]);
        if (idCol < 0 || (tileCol < 0 && (xCol < 0 || yCol < 0)))
            throw new InvalidDataException(
                $"{new SourceLocation(path, 1)}: expected an atlas index header with token_id and either x and y or tile_index, found: {string.Join(",", header)}.");
        var entries = new List<Entry>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var fields = new List<string>();
        while (csv.TryReadRecord(fields, out int line))
        {
            csv.CheckFieldCount(fields, header.Count, line);
            var where = new SourceLocation(path, line);
            var id = TokenIds.ParseField(fields[idCol], header[idCol], where);
            if (seen.TryGetValue(id, out int firstLine))
                throw FormatErrors.At(where.WithTokenId(id), $"token {id} already has a tile on line {firstLine}.");
            seen.Add(id, line);
            where = where.WithTokenId(id);
            int? tile = tileCol < 0 ? null : ParseInt(fields[tileCol], header[tileCol], where);
            int? x = xCol < 0 || yCol < 0 ? null : ParseInt(fields[xCol], header[xCol], where);
            int? y = xCol < 0 || yCol < 0 ? null : ParseInt(fields[yCol], header[yCol], where);
            entries.Add(new Entry(id, tile, x, y, line));
        }
        return new AtlasIndex(path, entries);
    }

    private static int ParseInt(string text, string column, SourceLocation where) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v
            : throw FormatErrors.Field(where, column, "a non-negative integer", FormatErrors.Quote(text));
}
