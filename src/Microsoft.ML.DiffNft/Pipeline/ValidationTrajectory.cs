using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>One validated model of a fine-tuning run: iteration 0 is the base model.</summary>
/// <param name="Iteration">Iterations of fine-tuning behind the model (0: the base model).</param>
/// <param name="RareRate">Share of the validation images that decode and are rare (0 when nothing decodes or no decoder exists).</param>
/// <param name="FidResNet18">FID-ResNet18 of the validation images against the collection.</param>
/// <param name="DuplicateRate">Share of the validation images that duplicate another.</param>
/// <param name="DecodableRate">Share of the validation images whose traits the judge reads (null without a judge).</param>
/// <param name="Pareto">No other model is at least as rare and at least as close to the collection (lower FID), and better in one.</param>
/// <param name="Chosen">The model the FID budget chose as the tuned model.</param>
internal sealed record ValidationPoint(int Iteration, double RareRate, double FidResNet18, double DuplicateRate, double? DecodableRate, bool Pareto = false, bool Chosen = false)
{
    /// <summary>A model's point from its validation metrics.</summary>
    public static ValidationPoint From(int iteration, NftGenerationMetrics m) =>
        new(iteration, m.RareRate ?? 0, m.FidResNet18, m.DuplicateRate, m.DecodableRate);
}

/// <summary>
/// The validation trajectory of a fine-tuning run — rare rate, FID-ResNet18, duplicates and decodable rate of the base
/// model and of every saved iteration at a small N — with its Pareto set (rare rate against FID) and the choice of a FID
/// budget; saved as <c>validation.csv</c>.
/// </summary>
internal static class ValidationTrajectory
{
    private const string Header = "iteration,rare_rate,fid_resnet18,duplicate_rate,decodable_rate,pareto,chosen";

    /// <summary>The points with <see cref="ValidationPoint.Pareto"/> set; iteration order is kept.</summary>
    public static List<ValidationPoint> MarkPareto(IReadOnlyList<ValidationPoint> points) =>
        points.Select(p => p with
        {
            Pareto = !points.Any(q => q.RareRate >= p.RareRate && q.FidResNet18 <= p.FidResNet18 && (q.RareRate > p.RareRate || q.FidResNet18 < p.FidResNet18)),
        }).ToList();

    /// <summary>
    /// The iteration a FID budget chooses among the fine-tuned points (iteration &gt; 0): the rarest whose FID is at most
    /// <paramref name="budget"/> times the base model's (ties: the earlier); when none is, the one with the lowest FID.
    /// </summary>
    /// <exception cref="ArgumentException">There is no base point (iteration 0) or no fine-tuned point.</exception>
    public static int Choose(IReadOnlyList<ValidationPoint> points, double budget)
    {
        var baseline = points.FirstOrDefault(p => p.Iteration == 0) ?? throw new ArgumentException("The trajectory has no base-model point (iteration 0).", nameof(points));
        var tuned = points.Where(p => p.Iteration > 0).ToList();
        if (tuned.Count == 0) throw new ArgumentException("The trajectory has no fine-tuned point.", nameof(points));
        var within = tuned.Where(p => p.FidResNet18 <= budget * baseline.FidResNet18).ToList();
        return within.Count > 0
            ? within.OrderByDescending(p => p.RareRate).ThenBy(p => p.Iteration).First().Iteration
            : tuned.OrderBy(p => p.FidResNet18).ThenBy(p => p.Iteration).First().Iteration;
    }

    /// <summary>A point as report.json writes it (snake_case keys, as <c>validation.csv</c>'s columns).</summary>
    public static System.Text.Json.Nodes.JsonObject ToJson(ValidationPoint p) => new()
    {
        ["iteration"] = p.Iteration,
        ["rare_rate"] = p.RareRate,
        ["fid_resnet18"] = p.FidResNet18,
        ["duplicate_rate"] = p.DuplicateRate,
        ["decodable_rate"] = p.DecodableRate,
        ["pareto"] = p.Pareto,
        ["chosen"] = p.Chosen,
    };

    /// <summary>Writes the trajectory atomically.</summary>
    public static void Save(IReadOnlyList<ValidationPoint> points, string path)
    {
        var csv = new StringBuilder(Header).Append('\n');
        foreach (var p in points)
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{p.Iteration},{p.RareRate:R},{p.FidResNet18:R},{p.DuplicateRate:R},{(p.DecodableRate is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "")},{(p.Pareto ? "true" : "false")},{(p.Chosen ? "true" : "false")}\n"));
        AtomicFile.WriteAllText(path, csv.ToString());
    }

    /// <summary>Reads a trajectory written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not such a trajectory (names the file, line and column).</exception>
    public static List<ValidationPoint> Load(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header)
            throw new InvalidDataException($"'{path}', line 1: expected the header '{Header}'.");
        var points = new List<ValidationPoint>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var cells = lines[i].Split(',');
            if (cells.Length != 7) throw new InvalidDataException($"'{path}', line {i + 1}: expected 7 cells, found {cells.Length}.");
            double Number(int column) => double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && !double.IsNaN(v)
                ? v : throw new InvalidDataException($"'{path}', line {i + 1}, column '{Header.Split(',')[column]}': '{cells[column]}' is not a number.");
            bool Flag(int column) => cells[column] switch
            {
                "true" => true,
                "false" => false,
                _ => throw new InvalidDataException($"'{path}', line {i + 1}, column '{Header.Split(',')[column]}': expected true or false, found '{cells[column]}'."),
            };
            int iteration = int.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out int it)
                ? it : throw new InvalidDataException($"'{path}', line {i + 1}, column 'iteration': '{cells[0]}' is not a non-negative integer.");
            points.Add(new ValidationPoint(iteration, Number(1), Number(2), Number(3), cells[4].Length == 0 ? null : Number(4), Flag(5), Flag(6)));
        }
        return points;
    }
}
