// Render a built-in Nouns collection with Zipf-skewed traits, load it as an IDataView, score trait rarity with
// OpenRarity inside an ML.NET pipeline, and print the rarest tokens.
//   dotnet run --project examples/RarityOfBuiltInCollection -c Release -- [count] [outputFolder]
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Catalog;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;

int count = args.Length > 0 ? int.Parse(args[0]) : 1000;
string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "diffnft-example-nouns");

// 1. A layered collection: the first few parts of each layer, the k-th part drawn with weight 1/k.
var generated = NounsCollectionGenerator.Generate(new NounsCollectionOptions
{
    Count = count,
    Seed = 7,
    Weights = NounsLayerWeights.Zipf(1.0),
    Parts = NounsSubset.Parse("bodies=6,accessories=10,heads=12,glasses=8"),
});
NftCollectionWriter.Write(generated.Collection, folder, new NftCollectionWriteOptions { ReplaceExisting = true });
Console.WriteLine($"Wrote {count} Nouns to {folder}");

// 2. Load it back as an IDataView: TokenId, one text column per trait, Caption, Image (MLImage).
var ml = new MLContext(seed: 1);
IDataView data = ml.Data.LoadNftCollection(folder);

// 3. OpenRarity scores, ranks and the top-5 % "rare" label, learned from the collection itself.
var rarity = ml.Transforms.DiffNft.ComputeTraitRarity().Fit(data);
IDataView scored = rarity.Transform(data);

var ids = scored.GetColumn<ReadOnlyMemory<char>>("TokenId").Select(v => v.ToString()).ToArray();
var scores = scored.GetColumn<float>("RarityScore").ToArray();
var ranks = scored.GetColumn<int>("RarityRank").ToArray();
var captions = scored.GetColumn<ReadOnlyMemory<char>>("Caption").Select(v => v.ToString()).ToArray();
Console.WriteLine($"Mean OpenRarity score: {scores.Average():F6} (1 by construction)");
foreach (int i in Enumerable.Range(0, ids.Length).OrderBy(i => ranks[i]).Take(5))
    Console.WriteLine($"rank {ranks[i],4}  token {ids[i],5}  score {scores[i]:F3}  {captions[i]}");
