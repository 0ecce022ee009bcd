using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// The <c>captions.csv</c> a collection folder may carry beside its metadata: a header <c>token_id,caption</c>, then one
/// row per token that has a caption. Captions are kept out of the OpenSea metadata, which has no field for them.
/// </summary>
internal static class CaptionsCsvFormat
{
    /// <summary>The text of <c>captions.csv</c> for the tokens that have a caption (in collection order), or null when none has.</summary>
    public static string? Write(NftCollection collection)
    {
        StringBuilder? sb = null;
        foreach (var token in collection.Tokens)
        {
            if (token.Caption is null) continue;
            sb ??= new StringBuilder("token_id,caption\n");
            CsvFormat.AppendRecord(sb, [token.TokenId, token.Caption]);
        }
        return sb?.ToString();
    }

    /// <summary>
    /// Replaces each token of <paramref name="tokens"/> that has a row in the file at <paramref name="path"/> by a copy
    /// with that caption (tokens without a row keep theirs). Throws <see cref="InvalidDataException"/> naming the file and line for a bad header, a
    /// bad or repeated id, a row with other than two fields, or a caption for a token the collection lacks.
    /// </summary>
    public static void Apply(List<NftToken> tokens, string path)
    {
        var byId = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) byId[tokens[i].TokenId] = i;

        var csv = CsvReader.Open(path);
        var header = csv.ReadHeader();
        if (header.Count != 2 || !IsName(header[0], "token_id") || !IsName(header[1], "caption"))
            throw FormatErrors.At(new SourceLocation(path, 1),
                $"expected the header 'token_id,caption', found {FormatErrors.Quote(string.Join(",", header))}.");

        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var fields = new List<string>();
        while (csv.TryReadRecord(fields, out int line))
        {
            var where = new SourceLocation(path, line);
            if (fields.Count != 2)
                throw FormatErrors.At(where, $"expected 2 fields (token_id,caption), found {fields.Count} (quote captions that contain commas).");
            var id = TokenIds.ParseField(fields[0], "token_id", where);
            where = where.WithTokenId(id);
            if (lineOf.TryGetValue(id, out int first))
                throw FormatErrors.At(where, $"token {id} already has a caption on line {first}; give each token one caption.");
            lineOf.Add(id, line);
            if (!byId.TryGetValue(id, out int index))
                throw FormatErrors.At(where,
                    $"a caption for token {id}, which is not in the collection's metadata (expected only ids of the collection's {tokens.Count} tokens).");
            tokens[index] = tokens[index].WithCaption(fields[1]);
        }
    }

    private static bool IsName(string field, string name) => string.Equals(field.Trim(), name, StringComparison.OrdinalIgnoreCase);
}
