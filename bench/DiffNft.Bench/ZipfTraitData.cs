namespace DiffNft.Bench;

/// <summary>
/// A synthetic collection held column-wise in memory: per trait type, each token's value as an index into that type's
/// vocabulary of raw spellings (-1 = the token lacks the trait). Values are Zipf-distributed; some spellings differ only
/// in case or surrounding spaces, so OpenRarity's normalisation matters; later trait types are often missing and have
/// a "None" value.
/// </summary>
internal sealed class ZipfTraitData
{
    private static readonly string[] Names = ["Background", "Body", "Eyes", "Mouth", "Head", "Clothes", "Accessory", "Special"];

    private ZipfTraitData(string[] traitNames, string[][] vocabulary, int[][] values, int tokens)
    {
        TraitNames = traitNames;
        Vocabulary = vocabulary;
        Values = values;
        Tokens = tokens;
    }

    public int Tokens { get; }

    public string[] TraitNames { get; }

    /// <summary>Raw spellings per trait type.</summary>
    public string[][] Vocabulary { get; }

    /// <summary>Per trait type, per token: index into <see cref="Vocabulary"/>, or -1.</summary>
    public int[][] Values { get; }

    public static ZipfTraitData Generate(int tokens, int traitTypes, double exponent, int seed)
    {
        var rng = new Random(seed);
        var names = new string[traitTypes];
        var vocabulary = new string[traitTypes][];
        var values = new int[traitTypes][];
        for (int t = 0; t < traitTypes; t++)
        {
            names[t] = t < Names.Length ? Names[t] : $"Trait {t}";
            int distinct = 8 << (t % 8);                               // 8, 16, …, 1024 values
            double present = t < 4 ? 1.0 : 1.0 - 0.2 * (t - 3);       // later types are often missing
            // Three spellings per value: as is, upper case, padded with spaces.
            var vocab = new string[distinct * 3];
            for (int k = 0; k < distinct; k++)
            {
                string value = t >= 4 && k == 2 ? "None" : $"{names[t]} value {k}";
                vocab[3 * k] = value;
                vocab[3 * k + 1] = value.ToUpperInvariant();
                vocab[3 * k + 2] = "  " + value + " ";
            }
            vocabulary[t] = vocab;

            var cdf = new double[distinct];
            double sum = 0;
            for (int k = 0; k < distinct; k++) cdf[k] = sum += 1 / Math.Pow(k + 1, exponent);
            var column = new int[tokens];
            for (int i = 0; i < tokens; i++)
            {
                if (rng.NextDouble() >= present)
                {
                    column[i] = -1;
                    continue;
                }
                int k = Array.BinarySearch(cdf, rng.NextDouble() * sum);
                if (k < 0) k = ~k;
                k = Math.Min(k, distinct - 1);
                double spelling = rng.NextDouble();
                column[i] = 3 * k + (spelling < 0.8 ? 0 : spelling < 0.9 ? 1 : 2);
            }
            values[t] = column;
        }
        return new ZipfTraitData(names, vocabulary, values, tokens);
    }
}
