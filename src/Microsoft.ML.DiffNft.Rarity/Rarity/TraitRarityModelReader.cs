using System.Text.Json;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DiffNft.Rarity;

/// <summary>Reads and validates the JSON of a trait rarity model file.</summary>
internal sealed class TraitRarityModelReader
{
    private readonly string _source;

    private TraitRarityModelReader(string source)
    {
        _source = source;
    }

    public static TraitRarityTransformer Read(IHostEnvironment env, JsonElement root, string source) =>
        new TraitRarityModelReader(source).Read(env, root);

    private TraitRarityTransformer Read(IHostEnvironment env, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Bad("(root)", "a JSON object", root);
        string format = String(root, "format");
        if (format != TraitRarityFile.FormatName)
            throw Fail("format", $"must be \"{TraitRarityFile.FormatName}\"; got \"{format}\" (this is not a trait rarity model)");
        int version = Int(root, "version");
        if (version > TraitRarityFile.FormatVersion)
            throw Fail("version", $"is {version}: the file was written by a newer Microsoft.ML.DiffNft; this one reads version {TraitRarityFile.FormatVersion}");
        if (version < 1)
            throw Fail("version", $"must be {TraitRarityFile.FormatVersion}; got {version}");
        string methodText = String(root, "method");
        if (!Enum.TryParse(methodText, ignoreCase: true, out RarityMethod method) || !Enum.IsDefined(method) || int.TryParse(methodText, out _))
            throw Fail("method", $"must be one of {string.Join(", ", Enum.GetNames<RarityMethod>())}; got \"{methodText}\"");
        int n = Int(root, "tokenCount");
        if (n < 1) throw Fail("tokenCount", $"must be at least 1; got {n}");
        double quantile = Double(root, "rareQuantile");
        if (!(quantile > 0 && quantile <= 1)) throw Fail("rareQuantile", $"must be in (0, 1]; got {quantile}");

        var columns = Object(root, "columns");
        string score = NonEmpty(columns, "score", "columns.score");
        string rank = NonEmpty(columns, "rank", "columns.rank");
        string isRare = NonEmpty(columns, "isRare", "columns.isRare");
        string? probabilities = Property(columns, "probabilities", "columns.probabilities").ValueKind == JsonValueKind.Null
            ? null
            : NonEmpty(columns, "probabilities", "columns.probabilities");
        bool doublePrecision = Bool(columns, "doublePrecision", "columns.doublePrecision");
        var outputNames = new[] { score, rank, isRare, probabilities }.Where(x => x is not null).ToList();
        if (outputNames.Distinct(StringComparer.Ordinal).Count() != outputNames.Count)
            throw Fail("columns", $"names the same output column twice ({string.Join(", ", outputNames)})");

        var traitsElement = Array(root, "traits", "traits");
        if (traitsElement.GetArrayLength() == 0) throw Fail("traits", "must list at least one trait");
        var traits = new List<TraitFrequency>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (var t in traitsElement.EnumerateArray())
        {
            string at = $"traits[{i}]";
            if (t.ValueKind != JsonValueKind.Object) throw Bad(at, "an object", t);
            string column = NonEmpty(t, "column", at + ".column");
            string traitType = NonEmpty(t, "traitType", at + ".traitType");
            if (!names.Add(TraitText.Normalize(traitType)))
                throw Fail(at + ".traitType", $"\"{traitType}\" repeats a trait type of an earlier entry");
            bool numeric = Bool(t, "numeric", at + ".numeric");
            int nullCount = Int(t, "nullCount", at + ".nullCount");
            var values = Array(t, "values", at + ".values");
            var counts = Array(t, "counts", at + ".counts");
            if (values.GetArrayLength() != counts.GetArrayLength())
                throw Fail(at + ".counts", $"has {counts.GetArrayLength()} entries but values has {values.GetArrayLength()}");
            if (values.GetArrayLength() == 0) throw Fail(at + ".values", "must list at least one value");
            var index = new TraitValueIndex();
            int v = 0;
            foreach (var value in values.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.String) throw Bad($"{at}.values[{v}]", "a string", value);
                string text = value.GetString()!;
                if (TraitText.Normalize(text) != text)
                    throw Fail($"{at}.values[{v}]", $"\"{text}\" is not trimmed and lower-cased");
                if (index.Find(text) >= 0) throw Fail($"{at}.values[{v}]", $"\"{text}\" appears twice");
                index.Add(text);
                v++;
            }
            var countArray = new int[v];
            long total = nullCount;
            if (nullCount < 0) throw Fail(at + ".nullCount", $"must not be negative; got {nullCount}");
            int c = 0;
            foreach (var count in counts.EnumerateArray())
            {
                countArray[c] = IntValue(count, $"{at}.counts[{c}]");
                if (countArray[c] < 1) throw Fail($"{at}.counts[{c}]", $"must be at least 1; got {countArray[c]}");
                total += countArray[c++];
            }
            if (total != n)
                throw Fail(at, $"counts {total} tokens with or without the trait (counts plus nullCount); tokenCount is {n}");
            traits.Add(new TraitFrequency(column, traitType, numeric, index, countArray, nullCount));
            i++;
        }

        int[]? traitCountCounts = null;
        if (Property(root, "traitCountCounts", "traitCountCounts").ValueKind != JsonValueKind.Null)
        {
            var tc = Array(root, "traitCountCounts", "traitCountCounts");
            if (tc.GetArrayLength() != traits.Count + 1)
                throw Fail("traitCountCounts", $"must have {traits.Count + 1} entries (counts 0 to {traits.Count}); got {tc.GetArrayLength()}");
            traitCountCounts = new int[traits.Count + 1];
            long total = 0;
            int k = 0;
            foreach (var e in tc.EnumerateArray())
            {
                traitCountCounts[k] = IntValue(e, $"traitCountCounts[{k}]");
                if (traitCountCounts[k] < 0) throw Fail($"traitCountCounts[{k}]", $"must not be negative; got {traitCountCounts[k]}");
                total += traitCountCounts[k++];
            }
            if (total != n) throw Fail("traitCountCounts", $"adds up to {total} tokens; tokenCount is {n}");
        }

        var scorer = new RarityScorer(method, n, traits, traitCountCounts);
        double entropy = Double(root, "entropy");
        if (!RarityRanking.IsClose(entropy, scorer.Entropy) && Math.Abs(entropy - scorer.Entropy) > 1e-12)
            throw Fail("entropy", $"is {entropy:R} but the frequency tables give {scorer.Entropy:R}; the file was changed by hand or damaged");

        var ranking = Object(root, "ranking");
        var uniqueCounts = IntArray(ranking, "uniqueCounts", "ranking.uniqueCounts");
        var scores = DoubleArray(ranking, "scores", "ranking.scores");
        var tokenCounts = IntArray(ranking, "tokenCounts", "ranking.tokenCounts");
        if (method != RarityMethod.OpenRarity && uniqueCounts.Any(u => u != 0))
            throw Fail("ranking.uniqueCounts", $"must be all 0 for method {method} (only OpenRarity ranks by unique traits)");
        var keys = scores.Select(scorer.Key).ToArray();
        var rarityRanking = RarityRanking.FromDistinct(uniqueCounts, keys, tokenCounts, quantile, out string? problem)
            ?? throw Fail("ranking", problem!);
        if (rarityRanking.TokenCount != n)
            throw Fail("ranking.tokenCounts", $"adds up to {rarityRanking.TokenCount} tokens; tokenCount is {n}");

        var table = new TraitRarityTable(method, n, traits, traitCountCounts, scorer, rarityRanking);
        return new TraitRarityTransformer(env, table, score, rank, isRare, probabilities, doublePrecision);
    }

    private InvalidDataException Fail(string field, string problem) =>
        new($"Trait rarity model '{_source}': field '{field}' {problem}.");

    private InvalidDataException Bad(string field, string expected, JsonElement got) =>
        Fail(field, $"must be {expected}; got {Describe(got)}");

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Undefined => "nothing",
        JsonValueKind.String => $"the string \"{Shorten(e.GetString()!)}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private JsonElement Property(JsonElement obj, string name, string field) =>
        obj.TryGetProperty(name, out var value) ? value : throw Fail(field, "is missing");

    private string String(JsonElement obj, string name) => String(obj, name, name);

    private string String(JsonElement obj, string name, string field)
    {
        var e = Property(obj, name, field);
        return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(field, "a string", e);
    }

    private string NonEmpty(JsonElement obj, string name, string field)
    {
        string s = String(obj, name, field);
        return s.Length > 0 ? s : throw Fail(field, "must not be empty");
    }

    private bool Bool(JsonElement obj, string name, string field)
    {
        var e = Property(obj, name, field);
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(field, "true or false", e),
        };
    }

    private int Int(JsonElement obj, string name) => Int(obj, name, name);

    private int Int(JsonElement obj, string name, string field) => IntValue(Property(obj, name, field), field);

    private int IntValue(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw Bad(field, "a whole number", e);

    private double Double(JsonElement obj, string name)
    {
        var e = Property(obj, name, name);
        return DoubleValue(e, name);
    }

    private double DoubleValue(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && double.IsFinite(v) ? v : throw Bad(field, "a finite number", e);

    private JsonElement Object(JsonElement obj, string name)
    {
        var e = Property(obj, name, name);
        return e.ValueKind == JsonValueKind.Object ? e : throw Bad(name, "an object", e);
    }

    private JsonElement Array(JsonElement obj, string name, string field)
    {
        var e = Property(obj, name, field);
        return e.ValueKind == JsonValueKind.Array ? e : throw Bad(field, "an array", e);
    }

    private int[] IntArray(JsonElement obj, string name, string field)
    {
        var a = Array(obj, name, field);
        var result = new int[a.GetArrayLength()];
        int i = 0;
        foreach (var e in a.EnumerateArray())
        {
            // The field name is built only on error: rankings hold a number per distinct score.
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out result[i]))
                throw Bad($"{field}[{i}]", "a whole number", e);
            i++;
        }
        return result;
    }

    private double[] DoubleArray(JsonElement obj, string name, string field)
    {
        var a = Array(obj, name, field);
        var result = new double[a.GetArrayLength()];
        int i = 0;
        foreach (var e in a.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out result[i]) || !double.IsFinite(result[i]))
                throw Bad($"{field}[{i}]", "a finite number", e);
            i++;
        }
        return result;
    }
}
