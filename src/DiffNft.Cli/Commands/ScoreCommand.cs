using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Reward;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft score</c>: score image files with a trained rarity reward.</summary>
internal static class ScoreCommand
{
    /// <summary>The output header, exactly.</summary>
    public const string Header = "file,reward,rare_probability";

    private static readonly string[] s_imageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];

    private static readonly Dictionary<string, RarityRewardKind> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["zscore"] = RarityRewardKind.ZScore,
        ["logit"] = RarityRewardKind.RareLogit,
        ["logprob"] = RarityRewardKind.RareLogProbability,
    };

    public static Command Create()
    {
        var reward = new Option<string>("--reward") { Description = $"Reward model file from train-reward, or the folder holding its {TrainRewardCommand.ModelFileName}.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder of image files (PNG, JPEG, GIF, BMP, WebP; its images/ subfolder when it has none itself). Any size: each image is resized to the model's input by the model's own preprocessing.", Required = true };
        var kind = new Option<string>("--kind") { Description = "Reward column: zscore (predicted rarity score, z-scored over the training collection; default), logit or logprob (of the calibrated rare probability).", DefaultValueFactory = _ => "zscore" };
        var output = new Option<string>("--out") { Description = $"Output CSV: {Header}, one row per image in file-name order.", Required = true };
        var threads = TrainRewardCommand.ThreadsOption();
        var command = new Command("score", "Score images by predicted rarity with a trained rarity reward; writes file,reward,rare_probability.")
        {
            reward, images, kind, threads, output,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            string kindName = parse.GetValue(kind)!;
            if (!Kinds.TryGetValue(kindName, out var rewardKind))
                throw new ArgumentException($"--kind must be one of {string.Join(", ", Kinds.Keys)}; got '{kindName}'.");
            TrainRewardCommand.ApplyThreads(parse.GetValue(threads));
            string modelPath = parse.GetValue(reward)!;
            if (Directory.Exists(modelPath)) modelPath = Path.Combine(modelPath, TrainRewardCommand.ModelFileName);
            string outPath = parse.GetValue(output)!;
            using var target = OutputFile.Open(outPath, "score");
            var (dir, files) = ListImages(parse.GetValue(images)!);
            var loaded = files.Select(f => PngCodec.Load(Path.Combine(dir, f))).ToList();
            using var model = RarityRewardModel.Load(modelPath);
            var scores = model.Predict(loaded, rewardKind);
            var csv = new StringBuilder(Header).Append('\n');
            for (int i = 0; i < files.Count; i++)
                csv.Append(Csv(files[i])).Append(',')
                   .Append(scores.Rewards[i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                   .Append(scores.RareProbabilities[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            AtomicFile.WriteAllText(outPath, csv.ToString());
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"scored {files.Count} images from '{dir}' ({rewardKind}); mean reward {scores.Rewards.Average():F3}, predicted rare {scores.RareProbabilities.Count(p => p >= 0.5)}; wrote {outPath}"));
            return 0;
        }));
        return command;
    }

    private static (string Dir, List<string> Files) ListImages(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Image folder '{dir}' does not exist.");
        // A folder diffnft wrote gives only the files its last run wrote (never stale images of an earlier run).
        var written = OutputMarker.WrittenFiles(dir);
        var files = Files(dir, written);
        string sub = Path.Combine(dir, "images");
        if (files.Count == 0 && Directory.Exists(sub))
        {
            dir = sub;
            files = Files(sub, written);
        }
        if (files.Count == 0) throw new InvalidDataException($"Folder '{dir}' holds no image files ({string.Join(", ", s_imageExtensions)}).");
        return (dir, files);
    }

    private static List<string> Files(string dir, IReadOnlyList<string>? written) =>
        (written?.Where(f => string.Equals(Path.GetDirectoryName(f), Path.GetFullPath(dir), StringComparison.Ordinal)) ?? Directory.EnumerateFiles(dir))
        .Where(f => s_imageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
        .Select(Path.GetFileName).Cast<string>()
        .OrderBy(f => f, Comparer<string>.Create(CompareFileNames))
        .ToList();

    /// <summary>Numeric stems in numeric order ("9.png" before "10.png"), others ordinally; then the whole name.</summary>
    internal static int CompareFileNames(string a, string b)
    {
        int c = RarityCommand.CompareTokenIds(Path.GetFileNameWithoutExtension(a), Path.GetFileNameWithoutExtension(b));
        return c != 0 ? c : string.CompareOrdinal(a, b);
    }

    private static string Csv(string value) =>
        value.IndexOfAny(new[] { ',', '"', '\n', '\r' }) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}
