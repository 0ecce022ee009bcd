using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft collection …</c>: make and convert NFT collections.</summary>
internal static class CollectionCommand
{
    public static Command Create()
    {
        var command = new Command("collection", "Make NFT collections: render the built-in Nouns collection with chosen trait weights.");
        command.Subcommands.Add(CreateNouns());
        return command;
    }

    /// <summary><c>diffnft collection nouns</c>: a layered collection from the CC0 Nouns parts.</summary>
    private static Command CreateNouns()
    {
        var count = new Option<int>("--count") { Description = "Number of tokens (ids 0 … N−1).", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed; the same options and seed give the same collection.", DefaultValueFactory = _ => 0 };
        var weights = new Option<string>("--weights")
        {
            Description = "Trait distribution of every layer: 'uniform' or 'zipf:EXPONENT' (the k-th part of a layer gets weight 1/k^EXPONENT).",
            DefaultValueFactory = _ => "uniform",
        };
        var parts = new Option<string>("--parts")
        {
            Description = "Use only the first parts of some layers, e.g. 'bodies=8,accessories=10,heads=12,glasses=8' (default: all parts).",
            DefaultValueFactory = _ => "",
        };
        var output = new Option<string>("--out") { Description = "Output folder: images/, metadata/, _metadata.json, captions.csv (a collection already there is replaced).", Required = true };

        var command = new Command("nouns", "Generate a Nouns collection (32×32 PNGs + OpenSea metadata + captions) with chosen trait weights.");
        command.Options.Add(count);
        command.Options.Add(seed);
        command.Options.Add(weights);
        command.Options.Add(parts);
        command.Options.Add(output);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            return CliErrors.Guard(stderr, () =>
            {
                var options = new NounsCollectionOptions
                {
                    Count = parseResult.GetValue(count),
                    Seed = parseResult.GetValue(seed),
                    Weights = NounsLayerWeights.Parse(parseResult.GetValue(weights) ?? "uniform"),
                    Parts = NounsSubset.Parse(parseResult.GetValue(parts)),
                };
                if (options.Count < 1) throw new ArgumentException($"--count must be at least 1; got {options.Count}.");
                string dir = parseResult.GetValue(output)!;

                var clock = Stopwatch.StartNew();
                stderr.WriteLine($"diffnft: generating {options.Count:N0} Nouns (weights {options.Weights}, parts {options.Parts}, seed {options.Seed})…");
                var collection = NounsCollectionGenerator.GenerateDetailed(options);

                int step = Math.Max(1, options.Count / 4), reported = 0;
                var gate = new object();
                var progress = new SynchronousProgress<int>(n =>
                {
                    lock (gate)
                    {
                        if (n - reported < step && n != options.Count) return;
                        reported = n;
                        stderr.WriteLine($"diffnft: wrote {n:N0}/{options.Count:N0} tokens");
                    }
                });
                // Rerunning into the same folder replaces the collection there, leaving no files of tokens the new one lacks.
                NftCollectionWriter.Write(collection.Collection, dir, new NftCollectionWriteOptions { ReplaceExisting = true }, progress);
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Wrote {options.Count:N0} Nouns to {dir} in {clock.Elapsed.TotalSeconds:F1} s ({collection.CombinationCount:N0} unique combinations possible with these parts)."));
                return 0;
            });
        });
        return command;
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
}
