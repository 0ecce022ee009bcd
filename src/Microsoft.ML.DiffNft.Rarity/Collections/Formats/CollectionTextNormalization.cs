namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Applies <see cref="UnicodeText"/>'s rule to tokens as they are loaded, whatever the format: trait types, string values
/// and captions become NFC. Names, descriptions and other fields keep their text exactly, for a faithful round trip.
/// Text that is not valid Unicode (an unpaired surrogate, as a JSON escape <c>"\ud83d"</c> or a UTF-16 file can hold)
/// is an error naming the token, the field and the position.
/// </summary>
internal static class CollectionTextNormalization
{
    /// <summary>Replaces, in place, every token whose text changes by a normalised copy.</summary>
    /// <param name="tokens">The tokens as read.</param>
    /// <param name="source">The metadata file or folder, for errors.</param>
    public static void Apply(List<NftToken> tokens, string source)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var where = new SourceLocation(source, TokenIndex: i, TokenId: token.TokenId);
            NftAttribute[]? changed = null;
            for (int k = 0; k < token.Attributes.Count; k++)
            {
                var a = token.Attributes[k];
                string type = Nfc(a.TraitType, where, "trait type");
                string value = a.Kind == NftValueKind.String ? Nfc(a.Value, where, $"value of trait {FormatErrors.Quote(type)}") : a.Value;
                if (ReferenceEquals(type, a.TraitType) && ReferenceEquals(value, a.Value)) continue;
                changed ??= token.Attributes.ToArray();
                changed[k] = a with { TraitType = type, Value = value };
            }
            string? caption = token.Caption is null ? null : Nfc(token.Caption, where, "caption");
            if (changed is null && ReferenceEquals(caption, token.Caption)) continue;
            if (changed is not null) CheckDistinctTypes(token, changed, where);
            tokens[i] = token.WithText(changed ?? token.Attributes, caption);
        }
    }

    private static string Nfc(string text, SourceLocation where, string field)
    {
        int bad = UnicodeText.IndexOfUnpairedSurrogate(text);
        if (bad >= 0)
            throw FormatErrors.At(where,
                $"the {field} holds an unpaired surrogate ({UnicodeText.CodeUnit(text[bad])} at character {bad + 1}), which is not Unicode text; " +
                "expected UTF-8 text (a JSON \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF one).");
        return UnicodeText.ToNfc(text);
    }

    // Two trait types of one token that differ only in normalisation become the same type: name both as written.
    private static void CheckDistinctTypes(NftToken token, NftAttribute[] normalized, SourceLocation where)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < normalized.Length; k++)
        {
            if (first.TryAdd(normalized[k].TraitType, k)) continue;
            throw FormatErrors.At(where,
                $"trait types {FormatErrors.Quote(token.Attributes[first[normalized[k].TraitType]].TraitType)} and {FormatErrors.Quote(token.Attributes[k].TraitType)} " +
                "are the same text in Unicode NFC (they differ only in how accents are encoded); a token can hold each trait type once.");
        }
    }
}
