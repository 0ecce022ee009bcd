// Trait rarity of a real collection inside an ML.NET pipeline, with the rarity package alone
// (Microsoft.ML.DiffNft.Rarity: no TorchSharp, no native image libraries): CrypToadz (7,025 CC0 tokens, tests/data/cryptoadz).
//  1. score and rank every token with OpenRarity (mlContext.Transforms.DiffNft.ComputeTraitRarity) and compare the
//     scores with the reference Python implementation's (open-rarity 0.7.5), which the data folder carries;
//  2. use the rarity transform as the label step of an ordinary ML.NET pipeline — one-hot traits → logistic
//     regression (SDCA) that predicts the top-5 % "rare" flag — fitted on 80 % of the tokens and evaluated on the rest.
//
//   dotnet run --project examples/RarityPipeline -c Release -- [collection]
//
// [collection]: any collection the loader reads (a folder of OpenSea JSON files, _metadata.json, JSON Lines, CSV);
// default: the CrypToadz copy in tests/data/cryptoadz. Runs in seconds.
using Microsoft.ML;

string folder = args.Length > 0 ? args[0] : FindCrypToadz();
var ml = new MLContext(seed: 1);

// The collection as an IDataView: TokenId and one text column per trait type (metadata only: this app decodes no images).
IDataView data = ml.Data.LoadNftCollection(folder);
string[] traits = ml.Data.GetNftTraitColumnNames(data);
Console.WriteLine($"{folder}: {data.GetRowCount():N0} tokens, trait columns: {string.Join(", ", traits)}");

// 1. OpenRarity over the whole collection: RarityScore (mean 1), RarityRank (1 = rarest), IsRare (top 5 %).
IDataView scored = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(data).Transform(data);
var tokens = ml.Data.CreateEnumerable<ScoredToken>(scored, reuseRowObject: false).ToArray();
var ids = tokens.Select(t => t.TokenId).ToArray();
var scores = tokens.Select(t => t.RarityScore).ToArray();
var ranks = tokens.Select(t => t.RarityRank).ToArray();
Console.WriteLine($"Mean OpenRarity score {scores.Average():F6} (1 by construction); {tokens.Count(t => t.IsRare):N0} tokens flagged rare");
foreach (int i in Enumerable.Range(0, ids.Length).OrderBy(i => ranks[i]).ThenBy(i => long.Parse(ids[i])).Take(5))
    Console.WriteLine($"  rank {ranks[i],4}  token {ids[i],8}  score {scores[i]:F4}");

string reference = Path.Combine(folder, "rarity-reference-openrarity-0.7.5.csv");
if (File.Exists(reference))
{
    // The reference scores of open-rarity 0.7.5, computed in Python from the same metadata: token_id,rank,score.
    var expected = File.ReadLines(reference).Skip(1).Select(l => l.Split(','))
        .ToDictionary(c => c[0], c => (Rank: int.Parse(c[1]), Score: double.Parse(c[2], System.Globalization.CultureInfo.InvariantCulture)));
    double maxDiff = 0;
    int sameRank = 0;
    for (int i = 0; i < ids.Length; i++)
    {
        var e = expected[ids[i]];
        maxDiff = Math.Max(maxDiff, Math.Abs(e.Score - scores[i]));
        if (e.Rank == ranks[i]) sameRank++;
    }
    Console.WriteLine($"Against open-rarity 0.7.5: largest score difference {maxDiff:E2} (float32 scores), same rank for {sameRank:N0} of {ids.Length:N0} tokens");
}

// 2. The rarity transform in a pipeline: its IsRare column is the label of a classifier over one-hot traits. The
// frequency table is learned from the training split only, so the test tokens' labels come from the same table.
var pipeline = ml.Transforms.DiffNft.ComputeTraitRarity()
    .Append(ml.Transforms.Categorical.OneHotEncoding(traits.Select(c => new InputOutputColumnPair(c + "_onehot", c)).ToArray()))
    .Append(ml.Transforms.Concatenate("Features", traits.Select(c => c + "_onehot").ToArray()))
    .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "IsRare", featureColumnName: "Features"));
var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
var model = pipeline.Fit(split.TrainSet);
var metrics = ml.BinaryClassification.Evaluate(model.Transform(split.TestSet), labelColumnName: "IsRare");
Console.WriteLine($"Predicting IsRare from one-hot traits (a linear model, {traits.Length} trait types): test AUC {metrics.AreaUnderRocCurve:F3}, " +
                  $"F1 {metrics.F1Score:F3}, accuracy {metrics.Accuracy:F3}");

// 3. Save the whole chain (rarity → one-hot → SDCA) in one file and load it back: mlContext.Model.Save cannot, because
// the rarity transformer is not ML.NET's own; SaveDiffNft saves the ML.NET part through it and the rarity part beside.
string modelPath = Path.Combine(Path.GetTempPath(), "rarity-pipeline.zip");
ml.Model.SaveDiffNft(model, data.Schema, modelPath);
var reloaded = ml.Model.LoadDiffNft(modelPath, out _);
float[] Scores(ITransformer m) => Microsoft.ML.Data.ColumnCursorExtensions.GetColumn<float>(m.Transform(split.TestSet), "Score").ToArray();
bool same = Scores(model).SequenceEqual(Scores(reloaded));
Console.WriteLine($"Saved to {modelPath} ({new FileInfo(modelPath).Length:N0} bytes); reloaded scores identical: {same}");

// The repository's copy of CrypToadz, found from wherever the example runs.
static string FindCrypToadz()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "tests", "data", "cryptoadz");
        if (File.Exists(Path.Combine(candidate, "metadata.jsonl"))) return candidate;
    }
    throw new DirectoryNotFoundException("tests/data/cryptoadz was not found above the example's folder; give a collection path as the first argument.");
}

// The columns of the scored view this program reads (ML.NET maps them by name).
sealed class ScoredToken
{
    public string TokenId { get; set; } = "";
    public float RarityScore { get; set; }
    public int RarityRank { get; set; }
    public bool IsRare { get; set; }
}
