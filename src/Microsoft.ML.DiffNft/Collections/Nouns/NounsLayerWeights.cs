using System.Globalization;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>How a layer's parts are drawn.</summary>
internal enum NounsWeighting
{
    /// <summary>Every part equally likely.</summary>
    Uniform,
    /// <summary>Zipf: the k-th part of the chosen subset has weight 1/k^s.</summary>
    Zipf,
    /// <summary>Explicit relative weights, one per part of the chosen subset (like HashLips' <c>name#weight.png</c>).</summary>
    Explicit,
    /// <summary>Exact counts per part that sum to the collection size, assigned to tokens in a seeded random order.</summary>
    ExactCounts,
}

/// <summary>
/// The trait distribution of one layer: uniform, Zipf-skewed, explicit relative weights or exact counts. Weights are
/// relative (they need not sum to 1) and are used as real numbers — no rounding to integers, unlike HashLips, whose
/// integer draw turns a weight of 0.15 out of 100 into 1 %.
/// </summary>
public sealed class NounsLayerWeights
{
    private NounsLayerWeights(NounsWeighting kind, double exponent, double[]? weights, int[]? counts)
    {
        Kind = kind;
        Exponent = exponent;
        Weights = weights;
        Counts = counts;
    }

    /// <summary>Every part of the subset equally likely.</summary>
    public static NounsLayerWeights Uniform { get; } = new(NounsWeighting.Uniform, 0, null, null);

    /// <summary>Zipf weights: the k-th part (1-based, in subset order) has weight 1/k^<paramref name="exponent"/>.</summary>
    /// <param name="exponent">The exponent s ≥ 0 (0 = uniform; 1 = classic Zipf; larger = more skewed).</param>
    public static NounsLayerWeights Zipf(double exponent)
    {
        if (!double.IsFinite(exponent) || exponent < 0)
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The Zipf exponent must be a finite number ≥ 0.");
        return new(NounsWeighting.Zipf, exponent, null, null);
    }

    /// <summary>Explicit relative weights, one per part of the layer's subset, in subset order (0 = never drawn).</summary>
    public static NounsLayerWeights Explicit(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var copy = weights.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (!double.IsFinite(copy[i]) || copy[i] < 0)
                throw new ArgumentException($"Weight {i} is {copy[i]}; weights must be finite numbers ≥ 0.", nameof(weights));
        if (copy.Length == 0 || copy.Sum() <= 0)
            throw new ArgumentException("At least one weight must be positive.", nameof(weights));
        return new(NounsWeighting.Explicit, 0, copy, null);
    }

    /// <summary>
    /// Exact counts, one per part of the layer's subset, in subset order. They must sum to the collection size; the
    /// generator gives exactly that many tokens each part, in a seeded random order.
    /// </summary>
    public static NounsLayerWeights ExactCounts(IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var copy = counts.ToArray();
        for (int i = 0; i < copy.Length; i++)
            if (copy[i] < 0)
                throw new ArgumentException($"Count {i} is {copy[i]}; counts must be ≥ 0.", nameof(counts));
        if (copy.Length == 0)
            throw new ArgumentException("At least one count is required.", nameof(counts));
        return new(NounsWeighting.ExactCounts, 0, null, copy);
    }

    /// <summary>Which distribution this is.</summary>
    internal NounsWeighting Kind { get; }

    /// <summary>The Zipf exponent (0 unless <see cref="Kind"/> is <see cref="NounsWeighting.Zipf"/>).</summary>
    public double Exponent { get; }

    /// <summary>The explicit weights, or null.</summary>
    public IReadOnlyList<double>? Weights { get; }

    /// <summary>The exact counts, or null.</summary>
    public IReadOnlyList<int>? Counts { get; }

    /// <summary>
    /// Parses <c>uniform</c> or <c>zipf:EXPONENT</c> (for example <c>zipf:1.0</c>), case-insensitively. Throws
    /// <see cref="FormatException"/> with the accepted forms.
    /// </summary>
    public static NounsLayerWeights Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Equals("uniform", StringComparison.OrdinalIgnoreCase)) return Uniform;
        if (t.StartsWith("zipf:", StringComparison.OrdinalIgnoreCase))
        {
            string value = t[5..].Trim();
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s) && s >= 0)
                return Zipf(s);
            throw new FormatException($"Weights '{text}': the Zipf exponent '{value}' must be a number ≥ 0 (for example zipf:1.0).");
        }
        throw new FormatException($"Weights '{text}' are not recognised; expected 'uniform' or 'zipf:EXPONENT' (for example zipf:1.0).");
    }

    /// <summary>
    /// The probability of each of the layer's <paramref name="partCount"/> subset parts. For exact counts: count / total.
    /// Throws <see cref="ArgumentException"/> naming the layer when the number of weights or counts does not match.
    /// </summary>
    internal double[] Probabilities(int partCount, NounsLayer layer)
    {
        if (partCount < 1) throw new ArgumentOutOfRangeException(nameof(partCount), partCount, "A layer needs at least one part.");
        var w = new double[partCount];
        switch (Kind)
        {
            case NounsWeighting.Uniform:
                Array.Fill(w, 1.0);
                break;
            case NounsWeighting.Zipf:
                for (int k = 0; k < partCount; k++) w[k] = Math.Pow(k + 1, -Exponent);
                break;
            case NounsWeighting.Explicit:
                CheckLength(Weights!.Count, partCount, layer, "weights");
                for (int k = 0; k < partCount; k++) w[k] = Weights[k];
                if (w.Sum() <= 0)
                    throw new ArgumentException($"{NounsLayers.TraitType(layer)} weights: at least one weight must be positive.");
                break;
            case NounsWeighting.ExactCounts:
                CheckLength(Counts!.Count, partCount, layer, "counts");
                for (int k = 0; k < partCount; k++) w[k] = Counts[k];
                if (w.Sum() <= 0)
                    throw new ArgumentException($"{NounsLayers.TraitType(layer)} counts: at least one count must be positive.");
                break;
        }
        double total = w.Sum();
        for (int k = 0; k < partCount; k++) w[k] /= total;
        return w;
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        NounsWeighting.Uniform => "uniform",
        NounsWeighting.Zipf => string.Create(CultureInfo.InvariantCulture, $"zipf:{Exponent}"),
        NounsWeighting.Explicit => $"explicit ({Weights!.Count} weights)",
        _ => $"exact counts ({Counts!.Count} parts, {Counts.Sum()} tokens)",
    };

    private static void CheckLength(int given, int partCount, NounsLayer layer, string what)
    {
        if (given != partCount)
            throw new ArgumentException(
                $"{NounsLayers.TraitType(layer)} {what}: {given} given, but the chosen subset has {partCount} {NounsLayers.PluralName(layer)}; give one per part, in image-data.json order.");
    }
}
