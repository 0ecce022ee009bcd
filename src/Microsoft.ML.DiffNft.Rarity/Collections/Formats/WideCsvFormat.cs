using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Reads and writes a wide table, one row per token: <c>token_id,&lt;trait 1&gt;,&lt;trait 2&gt;,…</c>. Every column but the
/// id is a trait type named by its header; an empty cell means the token lacks that trait. Values are text: a CSV cell
/// does not say whether it was a number, so numeric traits come back as strings with the same text.
/// </summary>
internal static class WideCsvFormat
{
    /// <summary>Reads a wide CSV file.</summary>
    public static List<NftToken> Read(string path)
    {
        var csv = CsvReader.Open(path);
        var header = csv.ReadHeader();
        int idCol = CsvColumns.Find(header, CsvColumns.TokenId);
        if (idCol < 0)
            throw new InvalidDataException(
                $"{new SourceLocation(path, 1)}: expected a header with a token_id column followed by one column per trait type, found: {string.Join(",", header)}.");
        var traitTypes = new string?[header.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < header.Count; c++)
        {
            if (c == idCol) continue;
            string name = string.IsNullOrWhiteSpace(header[c]) ? NftAttribute.UntypedTraitType : header[c];
            if (seen.TryGetValue(name, out int other))
                throw FormatErrors.At(new SourceLocation(path, 1),
                    $"columns {other + 1} and {c + 1} are both named {FormatErrors.Quote(name)}; each trait type needs one column.");
            seen.Add(name, c);
            traitTypes[c] = name;
        }

        var tokens = new TokenAccumulator();
        var fields = new List<string>();
        int index = 0;
        while (csv.TryReadRecord(fields, out int line))
        {
            csv.CheckFieldCount(fields, header.Count, line);
            var where = new SourceLocation(path, line, index);
            var id = TokenIds.ParseField(fields[idCol], header[idCol], where);
            var attributes = new List<NftAttribute>();
            for (int c = 0; c < fields.Count; c++)
                if (traitTypes[c] is string t && fields[c].Length > 0)
                    attributes.Add(new NftAttribute(t, fields[c]));
            tokens.Add(new NftToken(id, attributes), where.WithTokenId(id));
            index++;
        }
        return tokens.Tokens;
    }

    /// <summary>The text of a wide CSV of a collection (trait columns in <see cref="NftCollection.TraitTypes"/> order).</summary>
    public static string Write(NftCollection collection)
    {
        foreach (var t in collection.TraitTypes)
            if (CsvColumns.TokenId.Any(n => string.Equals(n, t, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException(
                    $"Trait type '{t}' would be read back as the token id column of a wide CSV; write a long CSV or JSON instead.", nameof(collection));
        var sb = new StringBuilder();
        CsvFormat.AppendRecord(sb, collection.TraitTypes.Prepend("token_id"));
        var row = new string[collection.TraitTypes.Count + 1];
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < collection.TraitTypes.Count; i++) column[collection.TraitTypes[i]] = i + 1;
        foreach (var token in collection.Tokens)
        {
            Array.Fill(row, "");
            row[0] = token.TokenId;
            foreach (var a in token.Attributes) row[column[a.TraitType]] = a.Value;
            CsvFormat.AppendRecord(sb, row);
        }
        return sb.ToString();
    }
}
