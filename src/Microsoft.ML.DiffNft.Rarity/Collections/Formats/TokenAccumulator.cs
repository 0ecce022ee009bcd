namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Collects tokens in source order and rejects a second token with the same id, naming both places.
/// (The <see cref="NftCollection"/> constructor also rejects duplicates, but only a reader knows where they came from.)
/// </summary>
internal sealed class TokenAccumulator
{
    private readonly Dictionary<string, SourceLocation> _seen = new(StringComparer.Ordinal);
    private readonly List<NftToken> _tokens = [];

    /// <summary>Adds a token read at <paramref name="where"/>.</summary>
    public void Add(NftToken token, SourceLocation where)
    {
        if (_seen.TryGetValue(token.TokenId, out var first))
            throw new InvalidDataException(
                $"Token id {token.TokenId} appears twice: at {first.WithTokenId(token.TokenId)} and at {where.WithTokenId(token.TokenId)}. Token ids must be unique.");
        _seen.Add(token.TokenId, where);
        _tokens.Add(token);
    }

    /// <summary>The tokens added so far, in order.</summary>
    public List<NftToken> Tokens => _tokens;
}
