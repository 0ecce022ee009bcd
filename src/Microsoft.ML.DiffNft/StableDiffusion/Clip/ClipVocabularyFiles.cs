using System.Text.Json;

namespace Microsoft.ML.DiffNft.StableDiffusion.Clip;

/// <summary>Reads and validates a CLIP tokenizer's <c>vocab.json</c> and <c>merges.txt</c>.</summary>
internal static class ClipVocabularyFiles
{
    /// <summary>
    /// The most merges the reference reads (<c>49152 − 256 − 2</c>, the size of OpenAI CLIP's merge list): lines past it
    /// are ignored, as the reference ignores them.
    /// </summary>
    public const int MaxMerges = 49152 - 256 - 2;

    /// <summary>Reads <c>vocab.json</c>: a JSON object mapping each token to its non-negative id.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not such an object; the message names the file and the entry.</exception>
    public static Dictionary<string, int> ReadVocabulary(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP vocabulary '{path}' does not exist.", path);
        return ParseVocabulary(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a <c>vocab.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">See <see cref="ReadVocabulary"/>.</exception>
    public static Dictionary<string, int> ParseVocabulary(string json, string source)
    {
        using var doc = ClipJson.ParseObject(json, source);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException(
                    $"'{source}': the id of token \"{p.Name}\" must be a non-negative whole number, found {p.Value.GetRawText()}.");
            if (p.Name.Length == 0) throw new InvalidDataException($"'{source}': holds an empty token (id {id}).");
            if (!vocab.TryAdd(p.Name, id)) throw new InvalidDataException($"'{source}': token \"{p.Name}\" appears twice.");
        }
        if (vocab.Count == 0) throw new InvalidDataException($"'{source}': the vocabulary is empty.");
        return vocab;
    }

    /// <summary>
    /// Reads <c>merges.txt</c>: a <c>#version</c> header line, then one merge per line, two symbols separated by a space,
    /// in rank order (first = applied first). Blank lines are skipped; at most <see cref="MaxMerges"/> lines are read.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">No header, or a line that is not two symbols; the message names the file and line.</exception>
    public static List<(string Left, string Right)> ReadMerges(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP merges file '{path}' does not exist.", path);
        return ParseMerges(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a <c>merges.txt</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">See <see cref="ReadMerges"/>.</exception>
    public static List<(string Left, string Right)> ParseMerges(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        // The reference strips the file, splits it at '\n', drops the first line unread and keeps the next MaxMerges.
        // It drops line 1 whatever it holds; requiring it to be the header turns a headerless file, whose first merge
        // would silently vanish, into an error.
        var lines = text.Trim().Split('\n');
        if (!lines[0].TrimStart().StartsWith("#version", StringComparison.Ordinal))
            throw new InvalidDataException(
                $"'{source}' line 1: expected the '#version: …' header of a BPE merges file, found \"{Shorten(lines[0])}\".");
        var merges = new List<(string, string)>(Math.Min(lines.Length, MaxMerges + 1));
        for (int n = 1; n < lines.Length && n <= MaxMerges; n++)
        {
            var parts = lines[n].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2)
                throw new InvalidDataException(
                    $"'{source}' line {n + 1}: a merge must be two symbols separated by a space, found \"{Shorten(lines[n])}\".");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    private static string Shorten(string line)
    {
        line = line.TrimEnd('\r');
        return line.Length <= 60 ? line : line[..60] + "…";
    }
}
