using System.Globalization;

namespace DiffNft.Bench;

/// <summary>Benchmark entry point: <c>rarity [--tokens N] [--traits K] [--repeat R] [--seed S] [--zipf s] [--quantile q]</c>.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("usage: DiffNft.Bench features [images=200] [batch=32] [threads=cores] | DiffNft.Bench rarity [--tokens 1000000] [--traits 8] [--repeat 3] [--seed 42] [--zipf 1.1] [--quantile 0.05] [--explain]");
            return args.Length == 0 ? 1 : 0;
        }
        if (args[0] == "features")
        {
            // features [images] [batch] [threads]
            int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
            return FeatureBenchmark.Run(Arg(1, 200), Arg(2, 32), Arg(3, Environment.ProcessorCount), Console.Out);
        }
        if (args[0] != "rarity")
        {
            Console.Error.WriteLine($"DiffNft.Bench: unknown benchmark '{args[0]}'; known: rarity, features.");
            return 1;
        }
        var options = new RarityBenchmarkOptions();
        for (int i = 1; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--explain")
            {
                options.Explain = true;
                continue;
            }
            if (i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"DiffNft.Bench: option '{name}' needs a value.");
                return 1;
            }
            string value = args[++i];
            try
            {
                switch (name)
                {
                    case "--tokens": options.Tokens = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--traits": options.TraitTypes = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--repeat": options.Repeat = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--seed": options.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--zipf": options.ZipfExponent = double.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--quantile": options.RareQuantile = double.Parse(value, CultureInfo.InvariantCulture); break;
                    default:
                        Console.Error.WriteLine($"DiffNft.Bench: unknown option '{name}'.");
                        return 1;
                }
            }
            catch (FormatException)
            {
                Console.Error.WriteLine($"DiffNft.Bench: option '{name}' expects a number; got '{value}'.");
                return 1;
            }
        }
        if (options.Tokens < 1 || options.TraitTypes < 1 || options.Repeat < 1 || options.ZipfExponent <= 0
            || !(options.RareQuantile > 0 && options.RareQuantile <= 1))
        {
            Console.Error.WriteLine("DiffNft.Bench: --tokens, --traits, --repeat and --zipf must be positive; --quantile in (0, 1].");
            return 1;
        }
        return RarityBenchmark.Run(options, Console.Out);
    }
}
