namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Captions (text prompts) for tokens: "a noun, body teal, head goat, …" — a subject, then "type value" per trait, lower
/// case, in the token's trait order. They condition the diffusion model, so prompts can fix some traits and leave others free.
/// </summary>
public static class NftCaptions
{
    /// <summary>
    /// The file a collection folder may carry with one caption per token (<c>token_id,caption</c>), which
    /// <see cref="NftCollectionWriter"/> writes and <see cref="NftCollectionLoader"/> reads.
    /// </summary>
    public const string CaptionsFileName = "captions.csv";

    /// <summary>Builds a caption from a token's traits.</summary>
    /// <param name="token">The token.</param>
    /// <param name="subject">The opening words, e.g. "a noun".</param>
    /// <param name="excludedTraitTypes">Trait types left out (compared case-insensitively), e.g. "Background".</param>
    public static string FromTraits(NftToken token, string subject = "an nft", IEnumerable<string>? excludedTraitTypes = null)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(subject);
        var excluded = new HashSet<string>(excludedTraitTypes ?? Array.Empty<string>(), StringComparer.OrdinalIgnoreCase);
        var parts = new List<string> { subject };
        foreach (var a in token.Attributes)
        {
            if (excluded.Contains(a.TraitType) || a.TraitType == NftAttribute.UntypedTraitType) continue;
            parts.Add($"{a.TraitType.Trim().ToLowerInvariant()} {a.Value.Trim().ToLowerInvariant()}");
        }
        return string.Join(", ", parts);
    }

    /// <summary>
    /// One caption per token, in collection order: the token's own <see cref="NftToken.Caption"/> (a generator's, or the
    /// row of the <c>captions.csv</c> that <see cref="NftCollectionLoader"/> read), else <see cref="FromTraits"/> with
    /// <paramref name="subject"/>.
    /// </summary>
    /// <param name="collection">The collection.</param>
    /// <param name="subject">The opening words of captions made from traits, e.g. "a noun".</param>
    public static string[] ForCollection(NftCollection collection, string subject = "an nft")
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(subject);
        return collection.Tokens.Select(t => t.Caption ?? FromTraits(t, subject)).ToArray();
    }
}
