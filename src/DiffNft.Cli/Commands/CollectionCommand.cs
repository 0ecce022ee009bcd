using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.IO;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft collection …</c>: make and convert NFT collections.</summary>
internal static class CollectionCommand
{
    private const string CommandName = "collection nouns";

    /// <summary>Where the collection is written in its folder; every token file under images/ and metadata/ is the collection's.</summary>
    private static readonly string[] Claimed = ["images/", "metadata/", "_metadata.json", NftCaptions.CaptionsFileName];

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
        var output = new Option<string>("--out")
        {
            Description = "Output folder: images/, metadata/, _metadata.json, captions.csv. A collection an earlier 'collection nouns' wrote there is replaced; " +
                          "any other non-empty folder is refused unless --overwrite is given.",
            Required = true,
        };
        var scale = new Option<int>("--scale")
        {
            Description = $"Enlarge each 32×32 image by this factor with nearest-neighbour sampling, e.g. 4 for 128×128 (1 … {NounsCollectionOptions.MaxImageScale}).",
            DefaultValueFactory = _ => 1,
        };
        var overwrite = OverwriteOption.Create();

        var command = new Command("nouns", "Generate a Nouns collection (32×32 PNGs, or larger with --scale, + OpenSea metadata + captions) with chosen trait weights.");
        command.Options.Add(count);
        command.Options.Add(seed);
        command.Options.Add(weights);
        command.Options.Add(parts);
        command.Options.Add(scale);
        command.Options.Add(output);
        command.Options.Add(overwrite);
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
                    ImageScale = parseResult.GetValue(scale),
                };
                if (options.Count < 1) throw new ArgumentException($"--count must be at least 1; got {options.Count}.");
                if (options.ImageScale < 1 || options.ImageScale > NounsCollectionOptions.MaxImageScale)
                    throw new ArgumentException($"--scale must lie in 1 … {NounsCollectionOptions.MaxImageScale}; got {options.ImageScale}.");
                // Probed, locked and checked before the collection is rendered.
                using var folder = OutputFolder.Open(parseResult.GetValue(output)!, CommandName, parseResult.GetValue(overwrite), Claimed);
                string dir = folder.Root;

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
                var files = collection.Collection.Tokens.SelectMany(t => new[] { $"images/{t.TokenId}.png", $"metadata/{t.TokenId}.json" })
                    .Concat(["_metadata.json", NftCaptions.CaptionsFileName]).ToList();
                folder.Begin(files);
                // Replacing is safe here: the folder is empty, or an earlier run of this command wrote every token file in
                // it (OutputFolder checked), or --overwrite was given. The writer leaves no files of tokens the new collection lacks.
                NftCollectionWriter.Write(collection.Collection, dir, new NftCollectionWriteOptions { ReplaceExisting = true }, progress);
                folder.Complete(files);
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Wrote {options.Count:N0} Nouns to {dir} in {clock.Elapsed.TotalSeconds:F1} s ({collection.CombinationCount:N0} unique combinations possible with these parts)."));
                return 0;
            });
        });
        return command;
    }
}
