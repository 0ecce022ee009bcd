using Microsoft.ML.DiffNft.Reward;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Collection-relative rarity: how crowded each sample's neighbourhood is among the images the policy drew in the last
/// few iterations and the other images of its batch, so that copies of one "rare" image lower each other's reward — a
/// thousand copies of a rare combination are not rare. Crowding of image i is
/// c_i = log(1 + Σ_j exp(−‖e_i − e_j‖² / (2h²))) over the remembered images j ≠ i, in the reward's embedding (the rarity
/// ViT's; pixels pooled to at most 16×16 when the reward has none). The bandwidth h is set once, from the first batch
/// (the base model's samples): a share of the median distance from a sample to its nearest neighbour. A copy adds about
/// 1 to the sum and a typical distinct neighbour almost nothing, so a policy that collapses onto one image is no longer
/// the optimum of its own reward.
/// </summary>
internal sealed class CrowdingPenalty
{
    private readonly int _window;
    private readonly double _bandwidthScale;
    private readonly Queue<float[][]> _memory = new();

    /// <param name="window">Iterations of samples remembered besides the current batch.</param>
    /// <param name="bandwidthScale">h as a share of the first batch's median nearest-neighbour distance.</param>
    public CrowdingPenalty(int window, double bandwidthScale)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        if (!(bandwidthScale > 0) || double.IsInfinity(bandwidthScale)) throw new ArgumentOutOfRangeException(nameof(bandwidthScale), bandwidthScale, "Must be positive.");
        _window = window;
        _bandwidthScale = bandwidthScale;
    }

    /// <summary>The bandwidth h; null until the first batch has been seen.</summary>
    public double? Bandwidth { get; private set; }

    /// <summary>
    /// The features crowding is measured in: the reward's embedding, or the images average-pooled to at most 16×16 and
    /// flattened. float32 [N, D] on the CPU.
    /// </summary>
    public static Tensor Features(IImageReward reward, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var e = IImageEmbedding.Of(reward, images);
        if (e is null)
        {
            long h = Math.Min(images.shape[2], 16), w = Math.Min(images.shape[3], 16);
            e = nn.functional.adaptive_avg_pool2d(images, new[] { h, w }).flatten(1);
        }
        return e.to(float32).cpu().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The crowding c_i of each row of <paramref name="features"/> [B, D] against the remembered samples and the rest of
    /// the batch; then remembers the batch (forgetting the oldest iteration beyond the window).
    /// </summary>
    public double[] Measure(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2) throw new ArgumentException($"Expected [B, D] features, got [{string.Join(", ", features.shape)}].", nameof(features));
        int b = (int)features.shape[0], d = (int)features.shape[1];
        if (_memory.Count > 0 && _memory.Peek()[0].Length != d)
            throw new ArgumentException($"The features have {d} dimensions; the remembered samples have {_memory.Peek()[0].Length}.", nameof(features));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = features.to(float64).cpu();
        var rows = _memory.SelectMany(m => m).Select(r => tensor(r).to(float64)).ToList();
        var all = rows.Count > 0 ? cat(new[] { stack(rows), batch }, 0) : batch;
        var d2 = cdist(batch, all).square();
        if (Bandwidth is null)
        {
            // Nearest neighbour within the first batch (itself excluded).
            var within = cdist(batch, batch) + eye(b, dtype: float64) * 1e300;
            var nearest = within.min(1).values.data<double>().Where(double.IsFinite).Order().ToArray();
            double median = nearest.Length == 0 ? 0 : nearest[nearest.Length / 2];
            if (!(median > 0)) median = nearest.Length == 0 ? 0 : nearest.Average();
            Bandwidth = Math.Max(_bandwidthScale * median, 1e-6);
        }
        double h = Bandwidth.Value;
        // Each row's own column contributes exp(0) = 1 exactly: subtract it.
        var crowd = (d2 / (-2 * h * h)).exp().sum(1) - 1;
        var result = crowd.clamp_min(0).log1p().data<double>().ToArray();
        var remembered = features.to(float32).cpu().contiguous().data<float>().ToArray();
        _memory.Enqueue(Enumerable.Range(0, b).Select(i => remembered.AsSpan(i * d, d).ToArray()).ToArray());
        while (_memory.Count > _window) _memory.Dequeue();
        return result;
    }

    /// <summary>The remembered samples, oldest iteration first, for checkpoints.</summary>
    public List<float[][]> State() => _memory.ToList();

    /// <summary>Restores a saved state (the bandwidth and the remembered samples).</summary>
    public void Restore(double? bandwidth, IReadOnlyList<float[][]>? memory)
    {
        if (bandwidth is { } h && !(h > 0 && double.IsFinite(h))) throw new InvalidDataException($"The saved crowding bandwidth {h} is not a positive number.");
        if (memory is not null && memory.Count > _window) throw new InvalidDataException($"The saved crowding memory holds {memory.Count} iterations; at most {_window} are expected.");
        var rows = memory?.SelectMany(m => m ?? throw new InvalidDataException("The saved crowding memory has a missing iteration.")).ToList() ?? [];
        if (rows.Any(r => r is null || r.Length != rows[0].Length || r.Any(v => !float.IsFinite(v))))
            throw new InvalidDataException("The saved crowding memory has rows of different lengths or non-finite values.");
        Bandwidth = bandwidth;
        _memory.Clear();
        foreach (var m in memory ?? []) _memory.Enqueue(m);
    }
}
