using System.Text.Json;
using DiffNft.Cli;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

public sealed class EvaluateCliTests
{
    [Fact]
    public void EvaluateWritesExactlyTheDocumentedKeys()
    {
        using var dir = new NounsTestData.TempDir();
        string reference = Path.Combine(dir.Path, "reference"), generated = Path.Combine(dir.Path, "generated");
        var collection = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 40, Seed = 2 });
        NftCollectionWriter.Write(collection.Collection, reference, new NftCollectionWriteOptions());
        for (int i = 0; i < 16; i++) PngCodec.Save(collection.Tokens[20 + i].Image!, Path.Combine(generated, "images", $"{i}.png"));
        string json = Path.Combine(dir.Path, "metrics.json");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(["evaluate", "--generated", generated, "--reference", reference, "--n", "16", "--no-cache", "--out", json], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(
            ["n", "fid_resnet18", "kid_resnet18", "kid_std", "rarity_score", "rare_rate", "decodable_rate", "novelty", "duplicate_rate", "diversity"],
            doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(16, doc.RootElement.GetProperty("n").GetInt32());
        Assert.Equal(1.0, doc.RootElement.GetProperty("decodable_rate").GetDouble());
        Assert.Equal(0.0, doc.RootElement.GetProperty("novelty").GetDouble());
        Assert.Contains("fid_resnet18=", stdout.ToString());
    }

    [Fact]
    public void TooLargeNAndMissingFoldersAreOneLineErrors()
    {
        using var dir = new NounsTestData.TempDir();
        for (int i = 0; i < 3; i++) PngCodec.Save(NounsRenderer.Render(new NounSeed(0, i, i, i, i)), Path.Combine(dir.Path, $"{i}.png"));
        var stderr = new StringWriter();
        int code = CliApp.Run(["evaluate", "--generated", dir.Path, "--reference", dir.Path, "--n", "10", "--out", Path.Combine(dir.Path, "m.json")], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("only 3 generated images", stderr.ToString());
        Assert.Single(stderr.ToString().Trim().Split('\n'));

        stderr = new StringWriter();
        code = CliApp.Run(["evaluate", "--generated", Path.Combine(dir.Path, "absent"), "--reference", dir.Path, "--out", Path.Combine(dir.Path, "m.json")], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("absent", stderr.ToString());
    }
}
