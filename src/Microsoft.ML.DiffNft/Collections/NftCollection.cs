namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// A whole NFT collection in memory: tokens with their traits and, optionally, images.
/// Load one with <c>NftCollectionLoader</c>, turn it into an <c>IDataView</c> with
/// <c>ToDataView</c>, write it back with <c>NftCollectionWriter</c>.
/// </summary>
public sealed class NftCollection
{
    /// <summary>Creates a collection. Token ids must be unique.</summary>
    /// <param name="tokens">The tokens, in collection order.</param>
    /// <param name="name">A display name (for example the folder or file it came from).</param>
    public NftCollection(IReadOnlyList<NftToken> tokens, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var types = new List<string>();
        var typeSet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            if (token is null) throw new ArgumentException("A collection cannot contain a null token.", nameof(tokens));
            if (!seen.Add(token.TokenId))
                throw new ArgumentException($"Token id '{token.TokenId}' appears more than once in collection '{name}'.", nameof(tokens));
            foreach (var a in token.Attributes)
                if (typeSet.Add(a.TraitType)) types.Add(a.TraitType);
        }
        Tokens = tokens;
        TraitTypes = types;
        Name = name;
    }

    /// <summary>The tokens, in collection order.</summary>
    public IReadOnlyList<NftToken> Tokens { get; }

    /// <summary>Every trait type, in order of first appearance, exactly as written in the source.</summary>
    public IReadOnlyList<string> TraitTypes { get; }

    /// <summary>A display name, or null.</summary>
    public string? Name { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>True when every token has an image.</summary>
    public bool HasImages => Tokens.Count > 0 && Tokens.All(t => t.Image is not null);
}
