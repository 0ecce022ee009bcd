namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Managed random choices (shuffles, subsets) that depend only on a 64-bit seed.</summary>
internal static class SeededShuffle
{
    /// <summary>A <see cref="Random"/> seeded from all 64 bits of <paramref name="seed"/> (its seeded algorithm is stable across .NET versions).</summary>
    public static Random Create(ulong seed) => new(unchecked((int)(seed ^ (seed >> 32))));

    /// <summary>A uniformly random permutation of 0 … n−1 (Fisher–Yates).</summary>
    public static int[] Permutation(int n, Random rng)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
