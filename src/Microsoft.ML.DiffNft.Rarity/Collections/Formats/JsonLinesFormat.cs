using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Reads JSON Lines: one token object per line, either OpenSea metadata with a token id field or the wrapper
/// <c>{"token_id": N, "metadata": {…}}</c> (the CrypToadz dump). Blank lines are skipped.
/// </summary>
internal static class JsonLinesFormat
{
    /// <summary>Reads the file's tokens in file order.</summary>
    public static List<NftToken> Read(string path)
    {
        var memory = JsonBytes.WithoutBom(JsonBytes.ReadFile(path));
        var tokens = new TokenAccumulator();
        int lineNumber = 0, index = 0, pos = 0;
        var span = memory.Span;
        while (pos < span.Length)
        {
            int nl = span[pos..].IndexOf((byte)'\n');
            int end = nl < 0 ? span.Length : pos + nl;
            var line = memory[pos..end];
            pos = end + 1;
            lineNumber++;
            if (JsonBytes.FirstSignificantByte(line.Span) < 0) continue;
            var where = new SourceLocation(path, lineNumber, index);
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line, JsonBytes.DocumentOptions);
            }
            catch (JsonException e)
            {
                throw FormatErrors.Json(path, e, lineNumber - 1, index);
            }
            using (doc)
            {
                var token = OpenSeaTokenReader.Read(doc.RootElement, where);
                tokens.Add(token, where.WithTokenId(token.TokenId));
            }
            index++;
        }
        return tokens.Tokens;
    }

    /// <summary>True when the first non-blank line is a complete JSON value and another non-blank line follows it.</summary>
    public static bool LooksLikeJsonLines(ReadOnlyMemory<byte> content)
    {
        var span = content.Span;
        int pos = 0;
        while (pos < span.Length)
        {
            int nl = span[pos..].IndexOf((byte)'\n');
            int end = nl < 0 ? span.Length : pos + nl;
            var line = content[pos..end];
            pos = end + 1;
            if (JsonBytes.FirstSignificantByte(line.Span) < 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line, JsonBytes.DocumentOptions);
            }
            catch (JsonException)
            {
                return false; // a pretty-printed object spans lines
            }
            return pos < span.Length && JsonBytes.FirstSignificantByte(span[pos..]) >= 0;
        }
        return false;
    }
}
