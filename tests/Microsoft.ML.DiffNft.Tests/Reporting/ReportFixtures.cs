using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reporting;

namespace Microsoft.ML.DiffNft.Tests.Reporting;

/// <summary>A report with known numbers: base, tuned, three trials (two on the Pareto front) and two solid-colour grids.</summary>
internal static class ReportFixtures
{
    /// <summary>The colour of the first grid (looked for in the browser's screenshot).</summary>
    public static readonly (byte R, byte G, byte B) GridColor = (255, 0, 255);

    public static NftGenerationMetrics Metrics(double fid, double? rare, double[]? scores = null, double[]? reference = null) => new()
    {
        Count = 64,
        FidResNet18 = fid,
        KidResNet18 = fid / 1000,
        KidStandardDeviation = 0.0012345678901234,
        RarityScore = scores?.Average(),
        RareRate = rare,
        DecodableRate = 0.9375,
        Novelty = 0.125,
        DuplicateRate = 0.015625,
        Diversity = 7.123456789,
        RarityScores = scores,
        ReferenceRarityScores = reference,
        RareThreshold = reference is null ? null : 1.75,
    };

    public static RgbaImage Solid(int width, int height, (byte R, byte G, byte B) c)
    {
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            pixels[4 * i] = c.R;
            pixels[4 * i + 1] = c.G;
            pixels[4 * i + 2] = c.B;
            pixels[4 * i + 3] = 255;
        }
        return new RgbaImage(width, height, pixels);
    }

    public static NftReport Build()
    {
        var rng = new Random(4);
        double[] Draw(int n, double mean) => Enumerable.Range(0, n).Select(_ => mean + rng.NextDouble() - 0.5).ToArray();
        var report = new NftReport
        {
            Title = "Test <report> & co",
            Created = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Base = Metrics(12.5, 0.03125, Draw(60, 1.0), Draw(400, 1.0)),
            TunedName = "best: r1",
        };
        var t1 = new ReportTrial("r0", new Dictionary<string, double> { ["rarity_weight"] = 0, ["kl_weight"] = 0.01 }, Metrics(10.25, 0.015625, Draw(58, 1.0)), 3, true);
        var t2 = new ReportTrial("r0.5", new Dictionary<string, double> { ["rarity_weight"] = 0.5, ["kl_weight"] = 0.01 }, Metrics(14.0, 0.03, Draw(55, 1.2)), 2, false);
        var t3 = new ReportTrial("r1", new Dictionary<string, double> { ["rarity_weight"] = 1, ["kl_weight"] = 0.01 }, Metrics(13.0, 0.25, Draw(50, 1.6)), 1, true);
        report.Trials.Add(t1);
        report.Trials.Add(t2);
        report.Trials.Add(t3);
        report.Tuned = t3.Metrics;
        report.Settings.Add(new("rarity_weights", "0, 0.5, 1"));
        report.Grids.Add(new ReportImage("reference", PngCodec.Encode(Solid(40, 24, GridColor))));
        report.Grids.Add(new ReportImage("base", PngCodec.Encode(Solid(16, 16, (10, 200, 30)))));
        report.LeaderboardRule = "higher rare_rate first";
        return report;
    }
}
