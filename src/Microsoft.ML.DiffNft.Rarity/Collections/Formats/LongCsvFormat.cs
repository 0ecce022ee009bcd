using System.Globalization;
using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Reads and writes a long table, one row per attribute: <c>token_id,trait_type,value[,value_type][,display_type][,max_value]</c>
/// (the CrypToadz <c>attributes.csv</c>). <c>value_type</c> tells the value's kind: <c>str</c>/<c>string</c> (or empty) for text,
/// <c>int</c>/<c>float</c>/<c>number</c> for numbers, <c>bool</c> for booleans. An empty value means the trait is absent;
/// an empty trait type means an untyped value. Tokens appear in order of their first row; their rows need not be adjacent.
/// </summary>
internal static class LongCsvFormat
{
    /// <summary>Reads a long CSV file.</summary>
    public static List<NftToken> Read(string path)
    {
        var csv = CsvReader.Open(path);
        var header = csv.ReadHeader();
        int idCol = CsvColumns.Find(header, CsvColumns.TokenId);
        int typeCol = CsvColumns.Find(header, CsvColumns.TraitType);
        int valueCol = CsvColumns.Find(header, ["value"]);
        int kindCol = CsvColumns.Find(header, ["value_type", "valueType"]);
        int displayCol = CsvColumns.Find(header, ["display_type", "displayType"]);
        int maxCol = CsvColumns.Find(header, ["max_value", "maxValue"]);
        if (idCol < 0 || typeCol < 0 || valueCol < 0)
            throw new InvalidDataException(
                $"{new SourceLocation(path, 1)}: expected a header with columns token_id, trait_type and value (optionally value_type, display_type, max_value), found: {string.Join(",", header)}.");

        var order = new List<string>();
        var builders = new Dictionary<string, Builder>(StringComparer.Ordinal);
        var fields = new List<string>();
        while (csv.TryReadRecord(fields, out int line))
        {
            csv.CheckFieldCount(fields, header.Count, line);
            var where = new SourceLocation(path, line);
            var id = TokenIds.ParseField(fields[idCol], header[idCol], where);
            where = where.WithTokenId(id);
            if (!builders.TryGetValue(id, out var b))
            {
                builders.Add(id, b = new Builder());
                order.Add(id);
            }
            string value = fields[valueCol];
            if (value.Length == 0) continue; // absent trait
            string traitType = string.IsNullOrWhiteSpace(fields[typeCol]) ? NftAttribute.UntypedTraitType : fields[typeCol];
            var kind = kindCol < 0 ? NftValueKind.String : ParseKind(fields[kindCol], header[kindCol], where);
            value = CheckValue(value, kind, header[valueCol], where);
            if (traitType == NftAttribute.UntypedTraitType)
                for (int n = 2; b.Lines.ContainsKey(traitType); n++)
                    traitType = NftAttribute.UntypedTraitType + " " + n.ToString(CultureInfo.InvariantCulture);
            if (b.Lines.TryGetValue(traitType, out int firstLine))
                throw FormatErrors.At(where,
                    $"trait type {FormatErrors.Quote(traitType)} of token {id} already appeared on line {firstLine}; a token can hold each trait type once.");
            b.Lines.Add(traitType, line);
            string? display = displayCol >= 0 && fields[displayCol].Length > 0 ? fields[displayCol] : null;
            string? max = maxCol >= 0 && fields[maxCol].Length > 0 ? fields[maxCol] : null;
            b.Attributes.Add(new NftAttribute(traitType, value, kind, display, max));
        }
        return order.Select(id => new NftToken(id, builders[id].Attributes)).ToList();
    }

    /// <summary>The text of a long CSV holding every attribute of a collection.</summary>
    public static string Write(NftCollection collection)
    {
        bool display = collection.Tokens.Any(t => t.Attributes.Any(a => a.DisplayType is not null));
        bool max = collection.Tokens.Any(t => t.Attributes.Any(a => a.MaxValue is not null));
        var sb = new StringBuilder();
        var header = new List<string> { "token_id", "trait_type", "value", "value_type" };
        if (display) header.Add("display_type");
        if (max) header.Add("max_value");
        CsvFormat.AppendRecord(sb, header);
        var row = new List<string>(header.Count);
        foreach (var token in collection.Tokens)
            foreach (var a in token.Attributes)
            {
                if (a.Value.Length == 0) continue; // an empty cell reads back as "absent"
                row.Clear();
                row.Add(token.TokenId);
                row.Add(a.TraitType);
                row.Add(a.Value);
                row.Add(a.Kind switch
                {
                    NftValueKind.Number => a.Value.AsSpan().IndexOfAny(".eE") >= 0 ? "float" : "int",
                    NftValueKind.Boolean => "bool",
                    _ => "str",
                });
                if (display) row.Add(a.DisplayType ?? "");
                if (max) row.Add(a.MaxValue ?? "");
                CsvFormat.AppendRecord(sb, row);
            }
        return sb.ToString();
    }

    private static NftValueKind ParseKind(string text, string column, SourceLocation where) => text.Trim().ToLowerInvariant() switch
    {
        "" or "str" or "string" or "text" => NftValueKind.String,
        "int" or "integer" or "float" or "double" or "number" or "numeric" or "decimal" => NftValueKind.Number,
        "bool" or "boolean" => NftValueKind.Boolean,
        _ => throw FormatErrors.Field(where, column, "one of str, int, float, number, bool", FormatErrors.Quote(text)),
    };

    private static string CheckValue(string value, NftValueKind kind, string column, SourceLocation where)
    {
        switch (kind)
        {
            case NftValueKind.Number:
                string trimmed = value.Trim();
                if (!JsonNumberText.IsValid(trimmed))
                    throw FormatErrors.Field(where, column, "a number (value_type says so)", FormatErrors.Quote(value));
                return trimmed;
            case NftValueKind.Boolean:
                string b = value.Trim().ToLowerInvariant();
                if (b is not ("true" or "false"))
                    throw FormatErrors.Field(where, column, "true or false (value_type says bool)", FormatErrors.Quote(value));
                return b;
            default:
                return value;
        }
    }

    private sealed class Builder
    {
        public List<NftAttribute> Attributes { get; } = [];
        public Dictionary<string, int> Lines { get; } = new(StringComparer.Ordinal);
    }
}
