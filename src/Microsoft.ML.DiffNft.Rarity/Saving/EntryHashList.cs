using System.Security.Cryptography;
using System.Text.Json;

namespace Microsoft.ML.DiffNft.Saving;

/// <summary>
/// The content hash of a model file: one entry, <see cref="EntryName"/>, holding the SHA-256 of every other entry. It is
/// written by every model file the package saves and checked before anything in the file is deserialised, so a damaged
/// or edited entry, an entry that appeared and one that disappeared are all refused, whatever the zip layer let through.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="Version">The version of this list's layout (<see cref="FormatVersion"/>).</param>
/// <param name="Sha256">Every other entry's name and the lower-case hex SHA-256 of its bytes.</param>
internal sealed record EntryHashList(string? Format, int Version, Dictionary<string, string>? Sha256)
{
    /// <summary>The entry's name. No other entry of a package file may have it.</summary>
    public const string EntryName = "sha256.json";

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "diffnft.sha256";

    /// <summary>The layout this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The list's bytes for <paramref name="entries"/> (which must not hold the list itself).</summary>
    public static byte[] Create(IReadOnlyDictionary<string, byte[]> entries)
    {
        // Sorted, so that equal content gives equal bytes.
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, bytes) in entries.OrderBy(e => e.Key, StringComparer.Ordinal)) hashes[name] = Hash(bytes);
        return JsonSerializer.SerializeToUtf8Bytes(new EntryHashList(FormatName, FormatVersion, hashes), s_json);
    }

    /// <summary>
    /// Checks <paramref name="entries"/>, which hold the list, against it: every other entry must be listed with its
    /// hash, and every listed entry present. Removes the list from <paramref name="entries"/> when it holds.
    /// </summary>
    /// <exception cref="InvalidDataException">The list is unreadable or something differs; the message names <paramref name="source"/> and the entry.</exception>
    public static void Verify(Dictionary<string, byte[]> entries, string source)
    {
        var list = Parse(entries[EntryName], source);
        entries.Remove(EntryName);
        foreach (var (name, expected) in list)
        {
            if (!entries.TryGetValue(name, out var bytes))
                throw Bad(source, $"has no entry '{name}', which '{EntryName}' lists (the file is damaged or was edited)");
            string actual = Hash(bytes);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
                throw Bad(source, $"entry '{name}' fails its SHA-256 check ('{EntryName}' records {expected}, the entry gives {actual}): the file is damaged or was edited");
        }
        foreach (var name in entries.Keys)
            if (!list.ContainsKey(name))
                throw Bad(source, $"entry '{name}' is not listed in '{EntryName}' (the file was changed after it was saved)");
    }

    private static Dictionary<string, string> Parse(byte[] bytes, string source)
    {
        EntryHashList? list;
        try
        {
            list = JsonSerializer.Deserialize<EntryHashList>(bytes, s_json);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw Bad(source, $"entry '{EntryName}' is not a valid hash list ({ex.Message.ReplaceLineEndings(" ")})", ex);
        }
        if (list?.Format != FormatName)
            throw Bad(source, $"entry '{EntryName}' has format '{list?.Format}'; expected '{FormatName}'");
        if (list.Version > FormatVersion)
            throw Bad(source, $"entry '{EntryName}' has version {list.Version}: a newer Microsoft.ML.DiffNft wrote it; this one reads version {FormatVersion}");
        if (list.Version != FormatVersion || list.Sha256 is null || list.Sha256.ContainsKey(EntryName))
            throw Bad(source, $"entry '{EntryName}' is not a valid version-{FormatVersion} hash list");
        return list.Sha256;
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static InvalidDataException Bad(string source, string problem, Exception? inner = null) =>
        new($"Model file '{source}': {problem}.", inner);
}
