using Microsoft.ML.DiffNft.Collections.Formats;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Captions (text prompts) for tokens: "a noun, body teal, head goat, …" — a subject, then "type value" per trait, lower
/// case, in the token's trait order. They condition the diffusion model, so prompts can fix some traits and leave others free.
/// </summary>
public static class NftCaptions
{
    /// <summary>The file a collection folder may carry with one caption per token (<c>token_id,caption</c>).</summary>
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

    /// <summary>Reads <c>token_id,caption</c> rows (header required).</summary>
    public static Dictionary<string, string> ReadCsv(string path)
    {
        var reader = CsvReader.Open(path);
        var fields = new List<string>();
        if (!reader.TryReadRecord(fields, out _) || fields.Count != 2 || fields[0] != "token_id" || fields[1] != "caption")
            throw new InvalidDataException($"'{path}', line 1: expected the header 'token_id,caption'.");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.TryReadRecord(fields, out int line))
        {
            if (fields.Count != 2)
                throw new InvalidDataException($"'{path}', line {line}: expected 2 fields (token_id,caption), found {fields.Count}.");
            if (!result.TryAdd(fields[0], fields[1]))
                throw new InvalidDataException($"'{path}', line {line}: token '{fields[0]}' has a second caption.");
        }
        return result;
    }

    /// <summary>
    /// One caption per token of a collection loaded from <paramref name="collectionPath"/>: the token's own caption, else
    /// the row of <c>captions.csv</c> in that folder, else <see cref="FromTraits"/> with <paramref name="subject"/>.
    /// </summary>
    public static string[] ForCollection(NftCollection collection, string? collectionPath, string subject = "an nft")
    {
        ArgumentNullException.ThrowIfNull(collection);
        Dictionary<string, string>? file = null;
        if (collectionPath is not null && Directory.Exists(collectionPath))
        {
            string csv = Path.Combine(collectionPath, CaptionsFileName);
            if (File.Exists(csv)) file = ReadCsv(csv);
        }
        return collection.Tokens.Select(t =>
            t.Caption ?? (file is not null && file.TryGetValue(t.TokenId, out var c) ? c : FromTraits(t, subject))).ToArray();
    }
}
