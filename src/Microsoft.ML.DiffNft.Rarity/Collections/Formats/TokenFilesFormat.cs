using System.Text.Json;
using System.Text.RegularExpressions;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// Reads per-token metadata files as HashLips and most contracts' <c>baseURI</c> folders hold them: <c>{id}.json</c>
/// or a bare <c>{id}</c>, one OpenSea object each. The id comes from the file name (what <c>tokenURI</c> resolves to);
/// other files in the folder (<c>_metadata.json</c>, READMEs) are ignored. Tokens are returned in numeric id order.
/// </summary>
internal static partial class TokenFilesFormat
{
    /// <summary>Lists the per-token files of a folder with their canonical ids, in numeric id order.</summary>
    public static List<(string Id, string Path)> FindTokenFiles(string directory)
    {
        var files = new List<(string Id, string Path)>();
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            var m = TokenFileName().Match(Path.GetFileName(path));
            if (!m.Success || !TokenIds.TryCanonical(m.Groups[1].ValueSpan, out var id)) continue;
            if (byId.TryGetValue(id, out var other))
                throw new InvalidDataException($"Token id {id} has two metadata files: '{other}' and '{path}'. Token ids must be unique.");
            byId.Add(id, path);
            files.Add((id, path));
        }
        files.Sort((a, b) => TokenIds.CompareNumeric(a.Id, b.Id));
        return files;
    }

    /// <summary>True when the folder holds at least one per-token file.</summary>
    public static bool HasTokenFiles(string directory) =>
        Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(p => TokenFileName().IsMatch(Path.GetFileName(p)));

    /// <summary>
    /// Reads every per-token file of a folder. A folder without id-named files (for example <c>TOADZ_1.json</c>, …) is
    /// read file by file with ids from the files' fields or names, which <see cref="NftCollectionFormat.TokenFiles"/>
    /// asks for explicitly; <c>_metadata.json</c> is skipped.
    /// </summary>
    public static List<NftToken> ReadDirectory(string directory)
    {
        var files = FindTokenFiles(directory);
        if (files.Count > 0)
        {
            var tokens = new List<NftToken>(files.Count);
            for (int i = 0; i < files.Count; i++)
                tokens.Add(ReadFile(files[i].Path, files[i].Id, i));
            return tokens;
        }
        var jsonFiles = OtherJsonFiles(directory);
        if (jsonFiles.Count == 0)
            throw new InvalidDataException($"'{directory}' holds no per-token metadata files: expected files named '{{id}}.json' or '{{id}}' (for example '1.json').");
        var accumulator = new TokenAccumulator();
        foreach (var path in jsonFiles)
        {
            var token = ReadFile(path, null);
            accumulator.Add(token, new SourceLocation(path, TokenId: token.TokenId));
        }
        var result = accumulator.Tokens;
        result.Sort((a, b) => TokenIds.CompareNumeric(a.TokenId, b.TokenId));
        return result;
    }

    /// <summary>The .json files of a folder other than <c>_metadata.json</c>, in name order.</summary>
    public static List<string> OtherJsonFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*.json")
            .Where(p => !string.Equals(Path.GetFileName(p), "_metadata.json", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads one token file; the id comes from <paramref name="idFromFileName"/> or, when null, from its fields.</summary>
    public static NftToken ReadFile(string path, string? idFromFileName, int index = 0)
    {
        var memory = JsonBytes.WithoutBom(JsonBytes.ReadFile(path));
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(memory, JsonBytes.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw FormatErrors.Json(path, e);
        }
        using (doc)
            return OpenSeaTokenReader.Read(doc.RootElement, new SourceLocation(path, TokenId: idFromFileName), idFromFileName);
    }

    /// <summary>The canonical id in a per-token file name, or null when the name is not one.</summary>
    public static string? IdFromFileName(string path)
    {
        var m = TokenFileName().Match(Path.GetFileName(path));
        return m.Success && TokenIds.TryCanonical(m.Groups[1].ValueSpan, out var id) ? id : null;
    }

    [GeneratedRegex(@"^(\d+)(\.json)?$", RegexOptions.IgnoreCase)]
    private static partial Regex TokenFileName();
}
