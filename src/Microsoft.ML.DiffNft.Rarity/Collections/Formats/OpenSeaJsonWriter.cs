using System.Text.Encodings.Web;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Writes a token as an OpenSea metadata object. Numbers are written from their exact text and booleans as JSON
/// booleans, so that reading the file back gives the same values and kinds.
/// </summary>
internal static class OpenSeaJsonWriter
{
    private static readonly HashSet<string> Written = new(StringComparer.Ordinal)
    {
        "token_id", "name", "description", "image", "attributes",
    };

    /// <summary>Writer settings: optional indentation, and no escaping of non-ASCII text or '+', '&amp;' (files are not HTML).</summary>
    public static JsonWriterOptions Options(bool indented) => new()
    {
        Indented = indented,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes one token object.</summary>
    /// <param name="w">The JSON writer.</param>
    /// <param name="token">The token.</param>
    /// <param name="imageUri">The <c>image</c> field, or null to leave it out.</param>
    /// <param name="withTokenId">Whether to write a <c>token_id</c> field (needed where no file name carries the id).</param>
    public static void WriteToken(Utf8JsonWriter w, NftToken token, string? imageUri, bool withTokenId)
    {
        w.WriteStartObject();
        if (withTokenId)
        {
            // Ids beyond 2^53 lose precision in JavaScript readers, so long ids are written as strings (our reader takes both).
            if (token.TokenId.Length <= 15) w.WriteNumber("token_id", ulong.Parse(token.TokenId, System.Globalization.CultureInfo.InvariantCulture));
            else w.WriteString("token_id", token.TokenId);
        }
        if (token.Name is not null) w.WriteString("name", token.Name);
        if (token.Description is not null) w.WriteString("description", token.Description);
        if (imageUri is not null) w.WriteString("image", imageUri);
        w.WriteStartArray("attributes");
        foreach (var a in token.Attributes) WriteAttribute(w, token, a);
        w.WriteEndArray();
        if (token.Extra is not null)
            foreach (var (key, value) in token.Extra)
            {
                if (Written.Contains(key)) continue; // ours wins; a second key of the same name would make the JSON ambiguous
                w.WritePropertyName(key);
                if (value is null) w.WriteNullValue();
                else value.WriteTo(w);
            }
        w.WriteEndObject();
    }

    private static void WriteAttribute(Utf8JsonWriter w, NftToken token, NftAttribute a)
    {
        w.WriteStartObject();
        // Untyped values go back out bare, as OpenSea has them; the reader names them "(untyped)", "(untyped) 2", … again.
        if (!IsUntyped(a.TraitType)) w.WriteString("trait_type", a.TraitType);
        switch (a.Kind)
        {
            case NftValueKind.Number:
                if (!JsonNumberText.IsValid(a.Value))
                    throw new InvalidDataException($"Token {token.TokenId}, trait '{a.TraitType}': value '{a.Value}' is marked as a number but is not a JSON number.");
                w.WritePropertyName("value");
                w.WriteRawValue(a.Value, skipInputValidation: true);
                break;
            case NftValueKind.Boolean:
                bool b = a.Value.Equals("true", StringComparison.OrdinalIgnoreCase) ? true
                    : a.Value.Equals("false", StringComparison.OrdinalIgnoreCase) ? false
                    : throw new InvalidDataException($"Token {token.TokenId}, trait '{a.TraitType}': value '{a.Value}' is marked as a boolean but is not true or false.");
                w.WriteBoolean("value", b);
                break;
            default:
                w.WriteString("value", a.Value);
                break;
        }
        if (a.DisplayType is not null) w.WriteString("display_type", a.DisplayType);
        if (a.MaxValue is not null)
        {
            w.WritePropertyName("max_value");
            if (JsonNumberText.IsValid(a.MaxValue)) w.WriteRawValue(a.MaxValue, skipInputValidation: true);
            else w.WriteStringValue(a.MaxValue);
        }
        w.WriteEndObject();
    }

    private static bool IsUntyped(string traitType)
    {
        if (!traitType.StartsWith(NftAttribute.UntypedTraitType, StringComparison.Ordinal)) return false;
        var rest = traitType.AsSpan(NftAttribute.UntypedTraitType.Length);
        return rest.IsEmpty || (rest.Length > 1 && rest[0] == ' ' && TokenIds.IsCanonical(rest[1..].ToString()));
    }
}
