using System.Globalization;
using System.Text;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// The per-iteration CSV log: one header, one row per iteration. The whole file is rewritten atomically after each
/// iteration (it stays small), and its rows travel in checkpoints, so a resumed run's log continues the interrupted one.
/// </summary>
internal sealed class FineTuneLog
{
    private readonly string[] _components;
    private readonly List<string> _rows = new();

    public FineTuneLog(IEnumerable<string> componentNames)
    {
        _components = componentNames.ToArray();
        Header = string.Join(",", new[] { "iteration", "elapsed_s", "reward_mean", "reward_std" }
            .Concat(_components.Select(c => "reward_" + Sanitize(c)))
            .Concat(new[] { "kl", "beta", "clip_fraction", "approx_kl", "loss", "grad_norm", "reward_queries" }));
    }

    public string Header { get; }

    /// <summary>The data rows so far (without the header).</summary>
    public IReadOnlyList<string> Rows => _rows;

    public void Add(FineTuneProgress p)
    {
        var cells = new List<string> { p.Iteration.ToString(CultureInfo.InvariantCulture), F(p.Elapsed.TotalSeconds), F(p.RewardMean), F(p.RewardStd) };
        cells.AddRange(_components.Select(c => p.RewardComponents.TryGetValue(c, out var v) ? F(v) : ""));
        cells.AddRange(new[] { F(p.Kl), F(p.KlWeight), F(p.ClipFraction), F(p.ApproxKl), F(p.Loss), F(p.GradientNorm), p.RewardQueries.ToString(CultureInfo.InvariantCulture) });
        _rows.Add(string.Join(",", cells));
    }

    /// <summary>Replaces the rows (from a checkpoint).</summary>
    public void Restore(IEnumerable<string> rows)
    {
        _rows.Clear();
        _rows.AddRange(rows);
    }

    public void Write(string path)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var row in _rows) sb.Append(row).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(char.IsLetterOrDigit(c) || c == '_' ? char.ToLowerInvariant(c) : '_');
        return sb.ToString();
    }
}
