#:package SkiaSharp
#:package SkiaSharp.NativeAssets.Linux.NoDependencies
#:property Nullable=enable
#:property PublishAot=false

// Renders the mfers collection (CC0, by sartoshi) to a folder of PNGs with OpenSea metadata, the input of
// `diffnft quickstart --collection`. Not a package feature: a script for a real high-resolution collection.
//
//   dotnet run scripts/render-mfers.cs -- --data tests/data/mfers --out out/mfers-128 [--size 128] [--limit N]
//
// Each token is drawn as the mfers-dev/layers example draws it — a 1000×1000 canvas, the traits in the order below,
// sprites from the layer sprite sheet — then reduced to --size by pixel-area averaging (every output pixel is the
// area-weighted mean of the canvas pixels under it). The 21 one-of-ones have no sprites and are left out. Writes
// images/{id}.png, metadata/{id}.json (name, image, attributes) and _metadata.json (all tokens, each with token_id).

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SkiaSharp;

string data = "tests/data/mfers", output = "out/mfers-128";
int size = 128, limit = int.MaxValue;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--data": data = Next(); break;
        case "--out": output = Next(); break;
        case "--size": size = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--limit": limit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}; expected --data, --out, --size, --limit"); return 2;
    }
}
if (size is < 8 or > 1000) { Console.Error.WriteLine("--size must lie in 8 … 1000"); return 2; }

const int Canvas = 1000;
// Drawing order of the layers after background and type (mfers-dev/layers, examples/draw-mfer.js).
string[] order = ["shirt", "chain", "4:20 watch", "beard", "eyes", "short hair", "long hair", "hat under headphones", "headphones", "hat over headphones", "mouth", "smoke"];
var fills = new Dictionary<string, SKColor>
{
    ["red"] = SKColor.Parse("#ff7c7c"), ["orange"] = SKColor.Parse("#ffba7a"), ["yellow"] = SKColor.Parse("#ffe375"),
    ["green"] = SKColor.Parse("#c7ff81"), ["blue"] = SKColor.Parse("#7dd0ff"),
};

string sheetPath = Path.Combine(data, "layers-spritesheet-256colors.png");
using var sheetBitmap = SKBitmap.Decode(sheetPath) ?? throw new InvalidDataException($"Cannot decode the sprite sheet '{sheetPath}'.");
// An immutable image: drawing from a mutable bitmap would copy the whole 4517×4825 sheet at every sprite.
using var sheet = SKImage.FromBitmap(sheetBitmap);
var index = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "layers-spritesheet-index.json")))!.AsObject();
var tokens = JsonNode.Parse(File.ReadAllText(Path.Combine(data, "mfers-traits.json")))!.AsArray();

Directory.CreateDirectory(Path.Combine(output, "images"));
Directory.CreateDirectory(Path.Combine(output, "metadata"));
var summary = new JsonArray();
var clock = Stopwatch.StartNew();
int written = 0, skipped = 0;
using var canvasBitmap = new SKBitmap(new SKImageInfo(Canvas, Canvas, SKColorType.Rgba8888, SKAlphaType.Premul));
using var canvas = new SKCanvas(canvasBitmap);
using var paint = new SKPaint { IsAntialias = false, BlendMode = SKBlendMode.SrcOver };

void Sprite(string category, string variant)
{
    var s = index[category]?[variant] ?? throw new InvalidDataException($"The sprite sheet has no sprite '{category}/{variant}'.");
    int x = (int)s["x"]!, y = (int)s["y"]!, w = (int)s["w"]!, h = (int)s["h"]!, ox = (int)s["og_x"]!, oy = (int)s["og_y"]!;
    canvas.DrawImage(sheet, SKRect.Create(x, y, w, h), SKRect.Create(ox, oy, w, h), paint);
}

foreach (var node in tokens)
{
    if (written >= limit) break;
    int id = (int)node!["id"]!;
    var traits = node["traits"]!.AsObject();
    if (traits.ContainsKey("1/1")) { skipped++; continue; }
    string Trait(string key) => (string?)traits[key] ?? throw new InvalidDataException($"mfer {id} has no '{key}'.");

    canvas.Clear(SKColors.Transparent);
    string background = Trait("background");
    if (fills.TryGetValue(background, out var fill)) canvas.Clear(fill);
    else Sprite("background", background);
    Sprite("setting", "chair");
    Sprite("setting", "body");
    Sprite("setting", "sartoshi");
    Sprite("heads", Trait("type"));
    foreach (string layer in order)
        if ((string?)traits[layer] is { } value) Sprite(layer, value);
    canvas.Flush();

    File.WriteAllBytes(Path.Combine(output, "images", $"{id}.png"), EncodePng(AreaReduce(canvasBitmap, size)));
    var attributes = new JsonArray();
    foreach (var (key, value) in traits) attributes.Add(new JsonObject { ["trait_type"] = key, ["value"] = (string?)value });
    var meta = new JsonObject { ["name"] = $"mfer #{id}", ["image"] = $"images/{id}.png", ["attributes"] = attributes };
    File.WriteAllText(Path.Combine(output, "metadata", $"{id}.json"), meta.ToJsonString());
    var withId = (JsonObject)meta.DeepClone();
    withId["token_id"] = id;
    summary.Add(withId);
    if (++written % 500 == 0) Console.Error.WriteLine($"{written} mfers rendered ({clock.Elapsed.TotalSeconds:F0} s)");
}
File.WriteAllText(Path.Combine(output, "_metadata.json"), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
Console.WriteLine($"wrote {written} mfers of {size}×{size} to {Path.GetFullPath(output)} ({skipped} one-of-ones left out; {clock.Elapsed.TotalSeconds:F0} s)");
return 0;

// Pixel-area reduction of an opaque canvas to size×size: output pixel (i, j) averages the canvas over
// [i·C/size, (i+1)·C/size) × [j·C/size, (j+1)·C/size), partial pixels weighted by the part covered.
static byte[] AreaReduce(SKBitmap bitmap, int size)
{
    int n = bitmap.Width;
    var px = bitmap.GetPixelSpan(); // RGBA, premultiplied; the canvas is opaque, so premultiplied = straight
    var (start, weights) = Weights(n, size);
    var rows = new double[3 * n * size]; // horizontal pass: [y][i][c]
    for (int y = 0; y < n; y++)
        for (int i = 0; i < size; i++)
        {
            double r = 0, g = 0, b = 0;
            for (int k = 0; k < weights[i].Length; k++)
            {
                int p = 4 * (y * n + start[i] + k);
                double w = weights[i][k];
                r += w * px[p]; g += w * px[p + 1]; b += w * px[p + 2];
            }
            int o = 3 * (y * size + i);
            rows[o] = r; rows[o + 1] = g; rows[o + 2] = b;
        }
    var rgba = new byte[4 * size * size];
    for (int j = 0; j < size; j++)
        for (int i = 0; i < size; i++)
        {
            double r = 0, g = 0, b = 0;
            for (int k = 0; k < weights[j].Length; k++)
            {
                int o = 3 * ((start[j] + k) * size + i);
                double w = weights[j][k];
                r += w * rows[o]; g += w * rows[o + 1]; b += w * rows[o + 2];
            }
            int q = 4 * (j * size + i);
            rgba[q] = (byte)Math.Clamp(Math.Round(r), 0, 255);
            rgba[q + 1] = (byte)Math.Clamp(Math.Round(g), 0, 255);
            rgba[q + 2] = (byte)Math.Clamp(Math.Round(b), 0, 255);
            rgba[q + 3] = 255;
        }
    return rgba;

    static (int[] Start, double[][] Weights) Weights(int source, int target)
    {
        var start = new int[target];
        var weights = new double[target][];
        for (int i = 0; i < target; i++)
        {
            double lo = (double)i * source / target, hi = (double)(i + 1) * source / target;
            int first = (int)Math.Floor(lo), last = (int)Math.Ceiling(hi) - 1;
            start[i] = first;
            weights[i] = new double[last - first + 1];
            for (int s = first; s <= last; s++)
                weights[i][s - first] = (Math.Min(hi, s + 1) - Math.Max(lo, s)) / (hi - lo);
        }
        return (start, weights);
    }
}

byte[] EncodePng(byte[] rgba)
{
    using var image = SKImage.FromPixelCopy(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul), rgba);
    using var encoded = image.Encode(SKEncodedImageFormat.Png, 100);
    return encoded.ToArray();
}
