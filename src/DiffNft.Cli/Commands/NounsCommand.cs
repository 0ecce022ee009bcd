using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft nouns …</c>: render single Nouns and decode traits from images.</summary>
internal static class NounsCommand
{
    private static readonly string[] s_imageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    public static Command Create()
    {
        var command = new Command("nouns", "Render a single Noun from its seed, or decode the traits of 32×32 Noun images.");
        command.Subcommands.Add(CreateRender());
        command.Subcommands.Add(CreateDecode());
        return command;
    }

    /// <summary><c>diffnft nouns render --seed 1,28,120,95,15 [--scale K] --out FILE.png</c>.</summary>
    private static Command CreateRender()
    {
        var seed = new Option<string>("--seed")
        {
            Description = "Part indices 'background,body,accessory,head,glasses', e.g. 1,28,120,95,15 (Noun 116).",
            Required = true,
        };
        var scale = new Option<int>("--scale") { Description = "Enlargement factor (1 = 32×32, 10 = 320×320).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "The PNG file to write.", Required = true };
        var command = new Command("render", "Render one Noun from its seed as a PNG.");
        command.Options.Add(seed);
        command.Options.Add(scale);
        command.Options.Add(output);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            return CliErrors.Guard(parseResult.InvocationConfiguration.Error, () =>
            {
                var nounSeed = NounSeed.Parse(parseResult.GetValue(seed)!);
                int k = parseResult.GetValue(scale);
                if (k is < 1 or > 64) throw new ArgumentException($"--scale must be between 1 and 64; got {k}.");
                nounSeed.Validate(NounsArt.Default);
                string path = parseResult.GetValue(output)!;
                using var target = OutputFile.Open(path, "nouns render");
                var image = NounsRenderer.Render(nounSeed, k);
                PngCodec.Save(image, path);
                stdout.WriteLine($"Wrote {path} ({image.Width}×{image.Height}): {NounsMetadata.Caption(nounSeed)}.");
                return 0;
            });
        });
        return command;
    }

    /// <summary><c>diffnft nouns decode --images DIR --out traits.csv [--threshold T] [--parts …]</c>.</summary>
    private static Command CreateDecode()
    {
        var images = new Option<string>("--images")
        {
            Description = "Folder of 32×32 images, or of square images whose side is a multiple of 32 (reduced to 32×32 by averaging each block first); its images/ subfolder is used when present.",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The CSV file to write.", Required = true };
        var threshold = new Option<double>("--threshold")
        {
            Description = "Largest per-layer distance (mean |Δ| per channel in [0,1]) for an image to count as decodable.",
            DefaultValueFactory = _ => new NounsDecoderOptions().DistanceThreshold,
        };
        var parts = new Option<string>("--parts")
        {
            Description = "Match only the first parts of some layers, as in 'collection nouns --parts' (default: all parts).",
            DefaultValueFactory = _ => "",
        };
        var command = new Command("decode", "Recover the Nouns traits of 32×32 images (or of enlarged ones, reduced first), layer by layer, and write them as CSV.");
        command.Options.Add(images);
        command.Options.Add(output);
        command.Options.Add(threshold);
        command.Options.Add(parts);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            return CliErrors.Guard(parseResult.InvocationConfiguration.Error, () =>
            {
                double t = parseResult.GetValue(threshold);
                if (!(t >= 0 && t <= 1)) throw new ArgumentException($"--threshold must be between 0 and 1; got {t.ToString(CultureInfo.InvariantCulture)}.");
                var decoder = new NounsTraitDecoder(NounsArt.Default, new NounsDecoderOptions
                {
                    DistanceThreshold = t,
                    Candidates = NounsSubset.Parse(parseResult.GetValue(parts)),
                });
                string dir = parseResult.GetValue(images)!;
                string outPath = parseResult.GetValue(output)!;
                using var target = OutputFile.Open(outPath, "nouns decode");
                var (files, loaded) = LoadImages(dir);
                var results = decoder.DecodeMany(loaded);
                AtomicFile.WriteAllText(outPath, ToCsv(files, results));
                int decodable = results.Count(r => r.IsDecodable);
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Decoded {results.Count:N0} images: {decodable:N0} decodable ({100.0 * decodable / results.Count:F1} %) → {outPath}"));
                return 0;
            });
        });
        return command;
    }

    private static (string[] Files, RgbaImage[] Images) LoadImages(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Image folder '{dir}' does not exist.");
        string nested = Path.Combine(dir, "images");
        string root = Directory.Exists(nested) ? nested : dir;
        // A folder diffnft wrote gives only the files its last run wrote (never stale images of an earlier run).
        var written = OutputMarker.WrittenFiles(dir)?.Where(f => string.Equals(Path.GetDirectoryName(f), Path.GetFullPath(root), StringComparison.Ordinal));
        var files = (written ?? Directory.EnumerateFiles(root))
            .Where(f => s_imageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Select(f => Path.GetRelativePath(root, f))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
            throw new InvalidDataException($"No images ({string.Join(", ", s_imageExtensions)}) found in '{root}'.");
        var loaded = new RgbaImage[files.Length];
        var errors = new Exception?[files.Length];
        Parallel.For(0, files.Length, i =>
        {
            string path = Path.Combine(root, files[i]);
            try
            {
                var image = PngCodec.Load(path);
                int g = NounsArt.GridSize;
                if (!NounsImageTraitDecoder.IsGrid(image))
                    throw new InvalidDataException(
                        $"Image '{path}' is {image.Width}×{image.Height}; the Nouns decoder needs {g}×{g} images, or squares whose side is a multiple of {g} (such as 128×128), which it reduces first.");
                // An enlarged Noun (collection nouns --scale) reduces back exactly; a generated one has each block averaged.
                loaded[i] = NounsImageTraitDecoder.ToGrid(image);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = ex;
            }
        });
        // Report the first bad file in name order, whatever order the workers met them in.
        if (errors.FirstOrDefault(e => e is not null) is { } first)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
        return (files, loaded);
    }

    private static string ToCsv(string[] files, IReadOnlyList<NounsDecodedTraits> results)
    {
        var csv = new StringBuilder("file,background,body,accessory,head,glasses,max_distance,decodable\n");
        for (int i = 0; i < files.Length; i++)
        {
            var r = results[i];
            CsvFormat.AppendRecord(csv,
            [
                files[i], .. NounsLayers.DrawOrder.Select(r.Value),
                r.MaxDistance.ToString("0.######", CultureInfo.InvariantCulture), r.IsDecodable ? "true" : "false",
            ]);
        }
        return csv.ToString();
    }
}
