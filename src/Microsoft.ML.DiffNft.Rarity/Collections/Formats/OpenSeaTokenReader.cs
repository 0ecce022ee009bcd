using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Turns one token's JSON object into an <see cref="NftToken"/>. Accepts the OpenSea metadata standard
/// (<c>{"name", "description", "image", "attributes": [{"trait_type", "value", "display_type", "max_value"}]}</c>),
/// a wrapper <c>{"token_id": N, "metadata": {…OpenSea…}}</c> (JSON Lines dumps), and a trait map
/// <c>{"id": N, "traits": {"background": "red"}}</c> (the mfers shape). Every JSON reader shares this, so all
/// formats agree on ids, value kinds and error messages.
/// </summary>
internal static class OpenSeaTokenReader
{
    // Fields that hold a token id, in the order they are trusted.
    private static readonly string[] IdFields = ["token_id", "tokenId", "id", "edition"];

    // Pure id fields are dropped from Extra (the writer re-creates token_id); "id" only when it was the id's source,
    // and "edition" never (HashLips' edition number is metadata in its own right).
    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "name", "description", "image", "attributes", "traits", "token_id", "tokenId",
    };

    /// <summary>Reads one token.</summary>
    /// <param name="element">The token's JSON value.</param>
    /// <param name="where">Where it came from (used in errors).</param>
    /// <param name="idFromFileName">The canonical id taken from the file name, which wins over fields (it is what
    /// a contract's <c>tokenURI</c> resolves to), or null.</param>
    public static NftToken Read(JsonElement element, SourceLocation where, string? idFromFileName = null)
    {
        try
        {
            return ReadObject(element, where, idFromFileName);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("UTF-16", StringComparison.Ordinal))
        {
            // System.Text.Json refuses a string holding a lone \uD83D escape when it is read, with a message naming no place.
            throw FormatErrors.At(idFromFileName is null ? where : where.WithTokenId(idFromFileName),
                $"a string is not valid Unicode text ({e.Message.TrimEnd('.')}); expected UTF-8 text, where a \\uD800-\\uDBFF escape is followed by a \\uDC00-\\uDFFF one.");
        }
    }

    private static NftToken ReadObject(JsonElement element, SourceLocation where, string? idFromFileName)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw FormatErrors.At(where, $"expected a JSON object with one token's metadata, found {FormatErrors.Describe(element)}.");

        JsonElement metadata = element;
        string? id = idFromFileName;
        string? idField = null;
        if (element.TryGetProperty("metadata", out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            // Wrapper form: the id lives beside "metadata"; other wrapper fields are not token metadata.
            id ??= ReadIdFields(element, where, out idField);
            metadata = inner;
        }
        string? name = ReadOptionalString(metadata, "name", where);
        if (id is null)
        {
            id = ReadIdFields(metadata, where, out idField);
            if (id is null && TokenIds.TryFromName(name, out var fromName)) id = fromName;
            if (id is null)
                throw FormatErrors.At(where,
                    "no token id: expected a 'token_id', 'tokenId', 'id' or 'edition' field holding " + TokenIds.Expected +
                    ", or a 'name' ending in '#<number>'" + (name is null ? "." : $" (the name is {FormatErrors.Quote(name)})."));
        }
        where = where.WithTokenId(id);

        IReadOnlyList<NftAttribute> attributes = [];
        string? attributesField = null;
        if (metadata.TryGetProperty("attributes", out var attrs)) attributesField = "attributes";
        else if (metadata.TryGetProperty("traits", out attrs)) attributesField = "traits";
        if (attributesField is not null) attributes = ReadAttributes(attrs, attributesField, where);

        return new NftToken(id, attributes)
        {
            Name = name,
            Description = ReadOptionalString(metadata, "description", where),
            ImageUri = ReadOptionalString(metadata, "image", where),
            Extra = ReadExtra(metadata, idField == "id" ? "id" : null, attributesField),
        };
    }

    private static string? ReadIdFields(JsonElement obj, SourceLocation where, out string? field)
    {
        foreach (var f in IdFields)
        {
            if (!obj.TryGetProperty(f, out var v) || v.ValueKind == JsonValueKind.Null) continue;
            field = f;
            string? text = v.ValueKind switch
            {
                JsonValueKind.Number => v.GetRawText(),
                JsonValueKind.String => v.GetString(),
                _ => null,
            };
            if (text is null || !TokenIds.TryCanonical(text, out var id))
                throw FormatErrors.Field(where, f, TokenIds.Expected, FormatErrors.Describe(v));
            return id;
        }
        field = null;
        return null;
    }

    private static string? ReadOptionalString(JsonElement obj, string field, SourceLocation where)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw FormatErrors.Field(where, field, "a string", FormatErrors.Describe(v));
        return v.GetString();
    }

    private static IReadOnlyList<NftAttribute> ReadAttributes(JsonElement attrs, string field, SourceLocation where)
    {
        var result = new List<NftAttribute>();
        // Trait type → where it first appeared (array index or map key), to name both places when a type repeats.
        // Field names are built only for error messages: this loop runs once per attribute of a whole collection.
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (attrs.ValueKind)
        {
            case JsonValueKind.Null:
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in attrs.EnumerateArray())
                {
                    int index = i++;
                    if (item.ValueKind != JsonValueKind.Object)
                        throw FormatErrors.Field(where, ItemField(field, index), "an object with 'trait_type' and 'value'", FormatErrors.Describe(item));
                    string? traitType = ReadTraitType(item, field, index, where);
                    if (!item.TryGetProperty("value"u8, out var v))
                        throw FormatErrors.Field(where, ItemField(field, index) + ".value", "a string, number or boolean (null when the trait is absent)", "no such field");
                    if (!TryReadScalar(v, field, index, where, out var value, out var kind)) continue;
                    string? display = ReadDisplayType(item, field, index, where);
                    string? maxValue = ReadMaxValue(item, field, index, where);
                    traitType = Claim(seen, traitType, field, index, null, where);
                    result.Add(new NftAttribute(traitType, value, kind, display, maxValue));
                }
                break;
            case JsonValueKind.Object:
                // A trait map {"background": "red", …}: the key is the trait type.
                foreach (var prop in attrs.EnumerateObject())
                {
                    if (!TryReadScalar(prop.Value, field, -1, where, out var value, out var kind, prop.Name)) continue;
                    string traitType = Claim(seen, string.IsNullOrWhiteSpace(prop.Name) ? null : prop.Name, field, -1, prop.Name, where);
                    result.Add(new NftAttribute(traitType, value, kind));
                }
                break;
            default:
                throw FormatErrors.Field(where, field, "an array of {\"trait_type\", \"value\"} objects or an object mapping trait types to values",
                    FormatErrors.Describe(attrs));
        }
        return result;
    }

    // "attributes[3]" for arrays (index ≥ 0), "traits.background" for maps.
    private static string ItemField(string field, int index, string? key = null) =>
        index >= 0 ? field + "[" + index.ToString(CultureInfo.InvariantCulture) + "]" : field + "." + key;

    // Records a trait type for this token, or throws when it was already there. Untyped values (OpenSea shows them as
    // generic properties) become "(untyped)", then "(untyped) 2", … so none is lost.
    private static string Claim(Dictionary<string, string> seen, string? traitType, string field, int index, string? key, SourceLocation where)
    {
        if (traitType is null)
        {
            traitType = NftAttribute.UntypedTraitType;
            for (int n = 2; seen.ContainsKey(traitType); n++)
                traitType = NftAttribute.UntypedTraitType + " " + n.ToString(CultureInfo.InvariantCulture);
        }
        else if (seen.TryGetValue(traitType, out var firstField))
        {
            throw FormatErrors.At(where,
                $"field '{ItemField(field, index, key)}': trait type {FormatErrors.Quote(traitType)} already appeared in '{firstField}'; a token can hold each trait type once.");
        }
        seen.Add(traitType, index >= 0 ? ItemField(field, index) : ItemField(field, index, key));
        return traitType;
    }

    private static string? ReadTraitType(JsonElement item, string field, int index, SourceLocation where)
    {
        if (!item.TryGetProperty("trait_type"u8, out var t) && !item.TryGetProperty("traitType"u8, out t)) return null;
        if (t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind != JsonValueKind.String)
            throw FormatErrors.Field(where, ItemField(field, index) + ".trait_type", "a string", FormatErrors.Describe(t));
        string s = t.GetString()!;
        return string.IsNullOrWhiteSpace(s) ? null : s;
    }

    // Null means "trait absent": returns false.
    private static bool TryReadScalar(JsonElement v, string field, int index, SourceLocation where, out string value, out NftValueKind kind, string? key = null)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.String: value = v.GetString()!; kind = NftValueKind.String; return true;
            case JsonValueKind.Number: value = v.GetRawText(); kind = NftValueKind.Number; return true;
            case JsonValueKind.True: value = "true"; kind = NftValueKind.Boolean; return true;
            case JsonValueKind.False: value = "false"; kind = NftValueKind.Boolean; return true;
            case JsonValueKind.Null: value = ""; kind = NftValueKind.String; return false;
            default:
                throw FormatErrors.Field(where, ItemField(field, index, key) + (index >= 0 ? ".value" : ""), "a string, number or boolean", FormatErrors.Describe(v));
        }
    }

    private static string? ReadDisplayType(JsonElement item, string field, int index, SourceLocation where)
    {
        if (!item.TryGetProperty("display_type"u8, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw FormatErrors.Field(where, ItemField(field, index) + ".display_type", "a string", FormatErrors.Describe(v));
        return v.GetString();
    }

    private static string? ReadMaxValue(JsonElement item, string field, int index, SourceLocation where)
    {
        if (!item.TryGetProperty("max_value"u8, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.String => v.GetString(),
            _ => throw FormatErrors.Field(where, ItemField(field, index) + ".max_value", "a number", FormatErrors.Describe(v)),
        };
    }

    private static JsonObject? ReadExtra(JsonElement metadata, string? alsoSkip, string? attributesField)
    {
        JsonObject? extra = null;
        foreach (var prop in metadata.EnumerateObject())
        {
            if (KnownFields.Contains(prop.Name) && (prop.Name is not ("attributes" or "traits") || prop.Name == attributesField)) continue;
            if (prop.Name == alsoSkip) continue;
            extra ??= new JsonObject();
            extra[prop.Name] = ToNode(prop.Value);
        }
        return extra;
    }

    // A detached copy: the JsonDocument behind the element is disposed once the token is read. Strings and booleans
    // (the usual extras, e.g. external_url) are copied directly; numbers, objects and arrays are re-parsed, which keeps
    // a number's exact text.
    private static JsonNode? ToNode(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => JsonValue.Create(value.GetString()),
        JsonValueKind.True => JsonValue.Create(true),
        JsonValueKind.False => JsonValue.Create(false),
        JsonValueKind.Null => null,
        _ => JsonNode.Parse(value.GetRawText()),
    };
}
