namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>
/// Turns rewards into advantages with per-prompt statistics, so that a prompt whose images all score high does not drown
/// out the signal of a prompt whose images all score low. Two rules: <see cref="GroupAdvantages"/> (the K images of a
/// prompt in this batch) and <see cref="Update"/> (DDPO's running statistics: the prompt's last N rewards across
/// iterations, or the whole batch until the prompt has enough). The running buffers are saved in checkpoints.
/// </summary>
internal sealed class PerPromptStatTracker
{
    /// <summary>Added to the standard deviation (DDPO uses 1e-6): equal rewards give advantage 0, not a division by zero.</summary>
    public const double StdEpsilon = 1e-6;

    private readonly Dictionary<string, Queue<double>> _buffers = new(StringComparer.Ordinal);

    public PerPromptStatTracker(int bufferSize, int minCount)
    {
        if (bufferSize < 1) throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, "Must be positive.");
        if (minCount < 1 || minCount > bufferSize) throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "Must lie in 1 … bufferSize.");
        BufferSize = bufferSize;
        MinCount = minCount;
    }

    public int BufferSize { get; }

    public int MinCount { get; }

    /// <summary>
    /// Adds the rewards to their prompts' buffers (oldest dropped beyond <see cref="BufferSize"/>), then normalises each
    /// reward by its prompt's buffer statistics — or by the whole batch's while the prompt has fewer than
    /// <see cref="MinCount"/> rewards. The divisor is never below <paramref name="minStd"/>.
    /// </summary>
    public double[] Update(IReadOnlyList<string> prompts, IReadOnlyList<double> rewards, double minStd = 0)
    {
        Check(prompts, rewards);
        foreach (var (prompt, r) in prompts.Zip(rewards))
        {
            if (!_buffers.TryGetValue(prompt, out var q)) _buffers[prompt] = q = new Queue<double>(BufferSize);
            q.Enqueue(r);
            if (q.Count > BufferSize) q.Dequeue();
        }
        var (batchMean, batchStd) = MeanStd(rewards);
        var stats = new Dictionary<string, (double Mean, double Std)>(StringComparer.Ordinal);
        var result = new double[rewards.Count];
        for (int i = 0; i < rewards.Count; i++)
        {
            if (!stats.TryGetValue(prompts[i], out var s))
            {
                var q = _buffers[prompts[i]];
                stats[prompts[i]] = s = q.Count >= MinCount ? MeanStd(q.ToArray()) : (batchMean, batchStd);
            }
            result[i] = (rewards[i] - s.Mean) / (Math.Max(s.Std, minStd) + StdEpsilon);
        }
        return result;
    }

    /// <summary>
    /// Normalises each reward by the mean and standard deviation of the rewards of the same prompt in this batch, the
    /// standard deviation floored at <paramref name="minStd"/>.
    /// </summary>
    public static double[] GroupAdvantages(IReadOnlyList<string> prompts, IReadOnlyList<double> rewards, double minStd = 0)
    {
        Check(prompts, rewards);
        var groups = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        for (int i = 0; i < rewards.Count; i++)
        {
            if (!groups.TryGetValue(prompts[i], out var g)) groups[prompts[i]] = g = new List<double>();
            g.Add(rewards[i]);
        }
        var stats = groups.ToDictionary(kv => kv.Key, kv => MeanStd(kv.Value), StringComparer.Ordinal);
        var result = new double[rewards.Count];
        for (int i = 0; i < rewards.Count; i++)
        {
            var (mean, std) = stats[prompts[i]];
            result[i] = (rewards[i] - mean) / (Math.Max(std, minStd) + StdEpsilon);
        }
        return result;
    }

    /// <summary>The buffers, oldest reward first, for checkpoints.</summary>
    public Dictionary<string, double[]> State() => _buffers.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>Replaces the buffers with a saved state.</summary>
    public void Restore(IReadOnlyDictionary<string, double[]> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _buffers.Clear();
        foreach (var (prompt, values) in state)
        {
            if (values is null || values.Length > BufferSize)
                throw new InvalidDataException($"The saved statistics of prompt '{prompt}' hold {values?.Length} rewards; at most {BufferSize} are expected.");
            _buffers[prompt] = new Queue<double>(values);
        }
    }

    /// <summary>Mean and population standard deviation (as numpy's default), in double precision.</summary>
    internal static (double Mean, double Std) MeanStd(IReadOnlyCollection<double> values)
    {
        double mean = values.Sum() / values.Count;
        double var = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        return (mean, Math.Sqrt(var));
    }

    private static void Check(IReadOnlyList<string> prompts, IReadOnlyList<double> rewards)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(rewards);
        if (prompts.Count != rewards.Count) throw new ArgumentException($"{prompts.Count} prompts but {rewards.Count} rewards.");
        if (rewards.Count == 0) throw new ArgumentException("At least one reward is needed.");
    }
}
