namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// The resolved part space of a generation run: which parts each layer may use, their probabilities, and the
/// incompatible and forced pairs — with the checks, the forcing step and the exact count of valid combinations.
/// </summary>
internal sealed class NounsRules
{
    private readonly (NounsPartRef A, NounsPartRef B)[] _incompatible;
    private readonly (NounsPartRef If, NounsPartRef Then)[] _forced;

    public NounsRules(NounsArt art, NounsCollectionOptions options)
    {
        Art = art;
        SubsetSizes = (options.Parts ?? NounsSubset.All).Resolve(art);
        Probabilities = new double[NounsLayers.Count][];
        foreach (var layer in NounsLayers.DrawOrder)
            Probabilities[(int)layer] = (options.WeightsFor(layer)
                ?? throw new ArgumentException($"{nameof(NounsCollectionOptions)}.{nameof(NounsCollectionOptions.Weights)} must not be null."))
                .Probabilities(SubsetSizes[(int)layer], layer);

        _incompatible = options.IncompatiblePairs.Select(p => Check(p, "incompatible")).Select(p => (p.First, p.Second)).ToArray();
        _forced = options.ForcedPairs.Select(p => Check(p, "forced")).Select(p => (p.First, p.Second)).ToArray();

        for (int i = 0; i < _forced.Length; i++)
        {
            var (a, b) = _forced[i];
            for (int j = 0; j < i; j++)
            {
                var (a2, b2) = _forced[j];
                if (a == a2 && b.Layer == b2.Layer && b != b2)
                    throw new ArgumentException(
                        $"Forced pairs conflict: {Name(a)} forces both {Name(b)} and {Name(b2)}, which belong to the same layer.");
            }
            foreach (var (x, y) in _incompatible)
                if ((x == a && y == b) || (x == b && y == a))
                    throw new ArgumentException($"{Name(a)} forces {Name(b)}, but the two are also declared incompatible.");
        }

        // A part may appear when its weight is positive or when a rule forces it.
        Allowed = new bool[NounsLayers.Count][];
        foreach (var layer in NounsLayers.DrawOrder)
        {
            var allowed = new bool[SubsetSizes[(int)layer]];
            for (int k = 0; k < allowed.Length; k++) allowed[k] = Probabilities[(int)layer][k] > 0;
            Allowed[(int)layer] = allowed;
        }
        foreach (var (_, then) in _forced) Allowed[(int)then.Layer][then.Index] = true;
    }

    public NounsArt Art { get; }

    /// <summary>Parts kept per layer (the first k).</summary>
    public int[] SubsetSizes { get; }

    /// <summary>Per layer, the requested probability of each subset part.</summary>
    public double[][] Probabilities { get; }

    /// <summary>Per layer, whether each subset part can appear at all.</summary>
    public bool[][] Allowed { get; }

    public bool HasForced => _forced.Length > 0;

    /// <summary>Applies the forced pairs until nothing changes; false when they keep changing (a cycle).</summary>
    /// <param name="parts">The five part indices, changed in place.</param>
    /// <param name="fixedLayers">Layers that must not be changed (exact-count layers); a rule that needs to change one is left unsatisfied.</param>
    public bool ApplyForced(Span<int> parts, ReadOnlySpan<bool> fixedLayers)
    {
        for (int round = 0; round <= _forced.Length; round++)
        {
            bool changed = false;
            foreach (var (a, b) in _forced)
            {
                if (parts[(int)a.Layer] == a.Index && parts[(int)b.Layer] != b.Index && !fixedLayers[(int)b.Layer])
                {
                    parts[(int)b.Layer] = b.Index;
                    changed = true;
                }
            }
            if (!changed) return true;
        }
        return false;
    }

    /// <summary>True when no incompatible pair is present and every forced pair is satisfied.</summary>
    public bool IsValid(ReadOnlySpan<int> parts)
    {
        foreach (var (a, b) in _incompatible)
            if (parts[(int)a.Layer] == a.Index && parts[(int)b.Layer] == b.Index) return false;
        foreach (var (a, b) in _forced)
            if (parts[(int)a.Layer] == a.Index && parts[(int)b.Layer] != b.Index) return false;
        return true;
    }

    /// <summary>
    /// The exact number of combinations of allowed parts that satisfy every rule, optionally with one part fixed.
    /// Parts that no rule names behave identically, so each layer is enumerated as "each named part, plus one class
    /// for all the others" and the class is counted with its size: the work depends on the number of rules, not on
    /// the 50 million combinations.
    /// </summary>
    public long CountValid(NounsPartRef? fixedPart = null)
    {
        var options = new List<(int Part, long Multiplicity)>[NounsLayers.Count];
        var named = new HashSet<NounsPartRef>();
        foreach (var (a, b) in _incompatible) { named.Add(a); named.Add(b); }
        foreach (var (a, b) in _forced) { named.Add(a); named.Add(b); }
        foreach (var layer in NounsLayers.DrawOrder)
        {
            int l = (int)layer;
            var list = new List<(int, long)>();
            if (fixedPart is { } f && f.Layer == layer)
            {
                if (f.Index < Allowed[l].Length && Allowed[l][f.Index]) list.Add((f.Index, 1));
            }
            else
            {
                long others = 0;
                for (int k = 0; k < Allowed[l].Length; k++)
                {
                    if (!Allowed[l][k]) continue;
                    if (named.Contains(new NounsPartRef(layer, k))) list.Add((k, 1));
                    else others++;
                }
                if (others > 0) list.Add((-1, others)); // -1: "any part no rule names"
            }
            options[l] = list;
        }
        Span<int> parts = stackalloc int[NounsLayers.Count];
        return Count(options, parts, 0, 1);
    }

    private long Count(List<(int Part, long Multiplicity)>[] options, Span<int> parts, int layer, long multiplicity)
    {
        if (layer == NounsLayers.Count) return IsValid(parts) ? multiplicity : 0;
        long total = 0;
        foreach (var (part, m) in options[layer])
        {
            parts[layer] = part;
            total += Count(options, parts, layer + 1, multiplicity * m);
        }
        return total;
    }

    public string Name(NounsPartRef part) =>
        part.Index >= 0 && part.Index < Art.PartCount(part.Layer)
            ? $"{NounsLayers.TraitType(part.Layer).ToLowerInvariant()} '{Art.Parts(part.Layer)[part.Index].FileName}' ({part.Index})"
            : part.ToString();

    /// <summary>"2 backgrounds × 8 bodies × …", the size of the chosen subset.</summary>
    public string DescribeSubset() => string.Join(" × ",
        NounsLayers.DrawOrder.Select(l => $"{Allowed[(int)l].Count(a => a)} {NounsLayers.PluralName(l)}"));

    private NounsPartPair Check(NounsPartPair? pair, string kind)
    {
        if (pair is null) throw new ArgumentException($"The list of {kind} pairs contains null.");
        foreach (var part in new[] { pair.First, pair.Second })
        {
            if (!Enum.IsDefined(part.Layer))
                throw new ArgumentException($"{kind} pair {pair}: {part.Layer} is not a Nouns layer.");
            int size = SubsetSizes[(int)part.Layer];
            if (part.Index < 0 || part.Index >= size)
                throw new ArgumentException(
                    $"{char.ToUpperInvariant(kind[0])}{kind[1..]} pair ({Name(pair.First)}, {Name(pair.Second)}): {Name(part)} is outside the chosen subset of {size} {NounsLayers.PluralName(part.Layer)} (valid indices 0 to {size - 1}).");
        }
        if (pair.First.Layer == pair.Second.Layer)
            throw new ArgumentException(
                $"{char.ToUpperInvariant(kind[0])}{kind[1..]} pair ({Name(pair.First)}, {Name(pair.Second)}): both parts belong to the same layer; a rule must link two different layers.");
        return pair;
    }
}
