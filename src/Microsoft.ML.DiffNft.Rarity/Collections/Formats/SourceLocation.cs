using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Where a token was read from, for error messages: the file, a 1-based line when the format has lines,
/// the token's 0-based position in the file and its id once known.
/// </summary>
internal readonly record struct SourceLocation(string File, int? Line = null, int? TokenIndex = null, string? TokenId = null)
{
    /// <summary>The same place with the token id filled in.</summary>
    public SourceLocation WithTokenId(string tokenId) => this with { TokenId = tokenId };

    /// <summary>Reads like <c>'/data/metadata.jsonl', line 3 (token #2, id 17)</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('\'').Append(File).Append('\'');
        if (Line is int line) sb.Append(", line ").Append(line.ToString(CultureInfo.InvariantCulture));
        if (TokenIndex is int index || TokenId is not null)
        {
            sb.Append(" (");
            if (TokenIndex is int i) sb.Append("token #").Append(i.ToString(CultureInfo.InvariantCulture));
            if (TokenIndex is not null && TokenId is not null) sb.Append(", ");
            if (TokenId is not null) sb.Append("token id ").Append(TokenId);
            sb.Append(')');
        }
        return sb.ToString();
    }
}
