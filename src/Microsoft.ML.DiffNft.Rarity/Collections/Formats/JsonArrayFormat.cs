using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Reads one JSON file holding an array of token objects: HashLips' <c>_metadata.json</c>, an OpenSea dump such as
/// Pudgy Penguins' (ids parsed from "Pudgy Penguin #123"), or the mfers shape <c>[{"id":0,"traits":{…}}]</c>.
/// Each element is located by line, so errors in the file's meaning (not only its syntax) name a line.
/// </summary>
internal static class JsonArrayFormat
{
    /// <summary>Reads the file's tokens in file order.</summary>
    public static List<NftToken> Read(string path)
    {
        var memory = JsonBytes.WithoutBom(JsonBytes.ReadFile(path));
        var span = memory.Span;
        var tokens = new TokenAccumulator();
        var reader = new Utf8JsonReader(span, JsonBytes.ReaderOptions);
        int index = 0;
        int? current = null; // the element being parsed, for syntax errors
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                throw FormatErrors.At(new SourceLocation(path, 1), "expected a JSON array of token objects ('[' first).");
            int line = 1;
            long counted = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                // Count newlines up to this element's start: linear overall, and gives each token a line.
                long start = reader.TokenStartIndex;
                line += span[(int)counted..(int)start].Count((byte)'\n');
                counted = start;
                var where = new SourceLocation(path, line, index);
                current = index;
                using (var doc = JsonDocument.ParseValue(ref reader))
                {
                    var token = OpenSeaTokenReader.Read(doc.RootElement, where);
                    tokens.Add(token, where.WithTokenId(token.TokenId));
                }
                index++;
            }
            current = null;
            // Anything but whitespace after the array is a syntax error, raised by Read.
            while (reader.Read()) { }
        }
        catch (JsonException e)
        {
            throw FormatErrors.Json(path, e, tokenIndex: current);
        }
        return tokens.Tokens;
    }
}
