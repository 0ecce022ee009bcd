using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft rarity</c>: score and rank every token of a collection by trait rarity.</summary>
internal static class RarityCommand
{
    /// <summary>The output header, exactly.</summary>
    public const string Header = "token_id,score,rank,is_rare";

    private static readonly Dictionary<string, RarityMethod> Methods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openrarity"] = RarityMethod.OpenRarity,
        ["sum"] = RarityMethod.SumOfInverseFrequency,
        ["statistical"] = RarityMethod.Statistical,
        ["average"] = RarityMethod.Average,
    };

    public static Command Create()
    {
        var input = new Option<string>("--input")
        {
            Description = "The collection: a folder of per-token JSON files, _metadata.json, a .jsonl file or a long/wide CSV (anything the collection loader reads).",
            Required = true,
        };
        var method = new Option<string>("--method")
        {
            Description = "openrarity (information content over entropy; default), sum (rarity.tools: Σ N/count), statistical (log10 of Π p; lower is rarer) or average (mean p; lower is rarer).",
            DefaultValueFactory = _ => "openrarity",
        };
        var quantile = new Option<double>("--rare-quantile")
        {
            Description = "Share of the collection flagged rare (the top by score), in (0, 1].",
            DefaultValueFactory = _ => TraitRarityOptions.Defaults.RareQuantile,
        };
        var output = new Option<string>("--out") { Description = "Output CSV: token_id,score,rank,is_rare, sorted by rank then token id.", Required = true };

        var command = new Command("rarity", "Score and rank every token of a collection by trait rarity (OpenRarity by default).");
        command.Options.Add(input);
        command.Options.Add(method);
        command.Options.Add(quantile);
        command.Options.Add(output);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            return CliErrors.Guard(stderr, () =>
            {
                string methodName = parseResult.GetValue(method) ?? "openrarity";
                if (!Methods.TryGetValue(methodName, out var rarityMethod))
                    throw new ArgumentException($"--method must be one of {string.Join(", ", Methods.Keys)}; got '{methodName}'.");
                double rareQuantile = parseResult.GetValue(quantile);
                if (!(rareQuantile > 0 && rareQuantile <= 1))
                    throw new ArgumentException($"--rare-quantile must be in (0, 1]; got {rareQuantile.ToString(CultureInfo.InvariantCulture)}.");
                string path = parseResult.GetValue(input)!;
                string outPath = parseResult.GetValue(output)!;
                using var target = OutputFile.Open(outPath, "rarity");

                var clock = Stopwatch.StartNew();
                var collection = NftCollectionLoader.Load(path, new NftCollectionLoadOptions { LoadImages = false, LoadCaptions = false });
                CollectionRequirements.RequireTokens(collection, 1, "rarity");
                CollectionRequirements.RequireTraits(collection, "rarity", varying: false);
                var view = collection.ToDataView(new NftCollectionDataViewOptions { IncludeImages = false, IncludeCaptions = false });
                var mlContext = new MLContext(seed: 0);
                var rarity = mlContext.Transforms.DiffNft.ComputeTraitRarity(new TraitRarityOptions
                {
                    Method = rarityMethod,
                    RareQuantile = rareQuantile,
                    UseDoublePrecision = true,
                }).Fit(view);

                var rows = Read(rarity.Transform(view), rarity);
                rows.Sort(static (a, b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : CompareTokenIds(a.TokenId, b.TokenId));
                var csv = new StringBuilder(Header).Append('\n');
                foreach (var r in rows)
                    csv.Append(r.TokenId).Append(',')
                       .Append(r.Score.ToString("R", CultureInfo.InvariantCulture)).Append(',')
                       .Append(r.Rank.ToString(CultureInfo.InvariantCulture)).Append(',')
                       .Append(r.IsRare ? "true" : "false").Append('\n');
                AtomicFile.WriteAllText(outPath, csv.ToString());

                var table = rarity.Table;
                var numeric = collection.GetTraitColumns().Where(c => c.IsNumeric).Select(c => c.TraitType).ToList();
                string leftOut = numeric.Count > 0 ? $" (numeric traits left out: {string.Join(", ", numeric)})" : "";
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Scored {table.TokenCount:N0} tokens by {table.Method} over {table.Traits.Count} trait types{leftOut}; " +
                    $"{rows.Count(r => r.IsRare):N0} rare (top {rareQuantile:P1}); wrote {outPath} in {clock.Elapsed.TotalSeconds:F1} s."));
                return 0;
            });
        });
        return command;
    }

    private readonly record struct Row(string TokenId, double Score, int Rank, bool IsRare);

    private static List<Row> Read(IDataView scored, TraitRarityTransformer rarity)
    {
        var schema = scored.Schema;
        var columns = new[] { schema[NftSchema.TokenIdColumnName], schema[rarity.ScoreColumnName], schema[rarity.RankColumnName], schema[rarity.IsRareColumnName] };
        var rows = new List<Row>((int)(scored.GetRowCount() ?? 0));
        using var cursor = scored.GetRowCursor(columns);
        var id = cursor.GetGetter<ReadOnlyMemory<char>>(columns[0]);
        var score = cursor.GetGetter<double>(columns[1]);
        var rank = cursor.GetGetter<int>(columns[2]);
        var rare = cursor.GetGetter<bool>(columns[3]);
        ReadOnlyMemory<char> idValue = default;
        double scoreValue = 0;
        int rankValue = 0;
        bool rareValue = false;
        while (cursor.MoveNext())
        {
            id(ref idValue);
            score(ref scoreValue);
            rank(ref rankValue);
            rare(ref rareValue);
            rows.Add(new Row(idValue.ToString(), scoreValue, rankValue, rareValue));
        }
        return rows;
    }

    /// <summary>Token ids in numeric order (they are canonical decimal integers of any length), other text ordinally after.</summary>
    internal static int CompareTokenIds(string a, string b)
    {
        bool da = IsDigits(a), db = IsDigits(b);
        if (da && db) return a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
        if (da != db) return da ? -1 : 1;
        return string.CompareOrdinal(a, b);
    }

    private static bool IsDigits(string s) => s.Length > 0 && s.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0;
}
