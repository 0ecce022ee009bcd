// Deploy the rarity reward without libtorch: export the bundled reward to ONNX once, then score images with a pipeline
// of ML.NET's own image transforms and ONNX Runtime — LoadImages → ResizeImages → ExtractPixels → ApplyOnnxModel — and
// print the scores beside the TorchSharp scorer's for the same images.
//
//   dotnet run --project examples/DeployRewardOnnx -c Release -- [count] [outputFolder]
//
// Defaults: 8 images of the built-in collection, files in the temp folder. Takes a few seconds.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Pipeline;

int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8;
string folder = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "diffnft-example-onnx");
Directory.CreateDirectory(folder);
var ml = new MLContext(seed: 1);

// 1. Export, once, where TorchSharp is available: the bundled reward model as a standard ONNX file.
using var reward = ml.Transforms.DiffNft.LoadRarityReward(Path.Combine(BundledModels.Require(), BundledModels.RewardModelFileName));
string onnxPath = Path.Combine(folder, "reward.onnx");
reward.ExportToOnnx(onnxPath);
int size = reward.ImageSize;
Console.WriteLine($"Exported the reward ({size}×{size} RGB in, RarityReward / RareProbability / Embedding out) to {onnxPath}");

// 2. Some images to score: new tokens of the built-in collection, saved as PNG files like uploads to a service.
var options = BuiltInCollection.CreateOptions();
options.Count = count;
options.Seed = 2024;
var files = NounsCollectionGenerator.Generate(options).Tokens.Select(t =>
{
    string path = Path.Combine(folder, $"token-{t.TokenId}.png");
    using var image = t.Image!.ToMLImage();
    image.Save(path);
    return new ImageFile { Path = path };
}).ToList();

// 3. Production scoring with ML.NET and ONNX Runtime only. ExtractPixels' defaults (RGB planes, values 0 … 255) are the
//    graph's input; the graph itself does the reward's normalisation. ResizeImages gives the image column the known
//    size that ExtractPixels needs (these images already have it, so they are scored exactly as TorchSharp scores them).
var pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFile.Path))
    .Append(ml.Transforms.ResizeImages("Image", size, size))
    .Append(ml.Transforms.ExtractPixels("Pixels", "Image"))
    .Append(ml.Transforms.ApplyOnnxModel(["RarityReward", "RareProbability"], ["Pixels"], onnxPath));
var data = ml.Data.LoadFromEnumerable(files);
var scored = pipeline.Fit(data).Transform(data);
var onnxReward = scored.GetColumn<float[]>("RarityReward").Select(v => v[0]).ToArray();
var onnxProbability = scored.GetColumn<float[]>("RareProbability").Select(v => v[0]).ToArray();

// 4. For comparison only: the TorchSharp scorer on the same image column.
var torch = reward.Transform(scored);
var torchReward = torch.GetColumn<float>("RarityReward").ToArray();
var torchProbability = torch.GetColumn<float>("RareProbability").ToArray();

Console.WriteLine("image               reward (ONNX)  reward (TorchSharp)  P(rare) (ONNX)  P(rare) (TorchSharp)");
for (int i = 0; i < files.Count; i++)
    Console.WriteLine($"{Path.GetFileName(files[i].Path),-18}  {onnxReward[i],13:F5}  {torchReward[i],19:F5}  {onnxProbability[i],14:F6}  {torchProbability[i],20:F6}");
double maxDifference = onnxReward.Zip(torchReward, (a, b) => Math.Abs(a - b)).Max();
Console.WriteLine($"Largest reward difference: {maxDifference:E1}");

/// <summary>One row of the input: the path of an image file.</summary>
internal sealed class ImageFile
{
    public string Path { get; set; } = "";
}
