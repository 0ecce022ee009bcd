using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Diffusion;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The collection defects a hostile-user run found (<c>diffnft collection nouns</c>, then edited), each reproduced:
/// an emoji in a trait value failed train-diffusion with "An item with the same key has already been added. Key: �";
/// an empty collection was reported as "Found no trait columns" or "has no image for every token"; mixed image sizes
/// and missing images named no token; evaluate on a reference of mixed sizes exited 0 with null rarity for the wrong
/// reason. Every error is one line naming the file, token or value and what was expected.
/// </summary>
public sealed class HostileCollectionsTests
{
    [Fact]
    public void AnEmojiInATraitValueTrainsDiffusionAndSurvivesTheSavedVocabulary()
    {
        using var c = new HostileCollection().WithoutDerivedFiles();
        c.SetValue(0, 3, "spaghetti 😀");
        c.SetValue(1, 3, "👩‍💻 coder");
        c.SetValue(2, 3, "🇫🇷");
        string model = Path.Combine(c.Output, "m.diffnft");

        var (code, _, error) = Cli.Run(CollectionCommands.TrainDiffusion(c.Dir, model));

        Assert.True(code == 0, error);
        using var loaded = DiffusionModel.Load(model);
        var vocabulary = loaded.Tokenizer.Vocabulary;
        // Each emoji is one entry, whole: a surrogate pair, a ZWJ sequence and a flag (two regional indicators).
        Assert.Contains("😀", vocabulary);
        Assert.Contains("👩‍💻", vocabulary);
        Assert.Contains("🇫🇷", vocabulary);
        Assert.DoesNotContain(vocabulary, v => v.Contains('\uFFFD'));
        var ids = loaded.Tokenizer.Encode("an nft, head spaghetti 😀", 16);
        Assert.Contains(vocabulary.ToList().IndexOf("😀"), ids.Select(i => (int)i));
    }

    [Fact]
    public void AnAccentTypedDecomposedIsTheSameTraitValueAsOneTypedPrecomposed()
    {
        using var precomposed = new HostileCollection("precomposed");
        using var mixed = new HostileCollection("mixed");
        foreach (int id in precomposed.Ids)
        {
            precomposed.SetValue(id, 0, id % 3 == 0 ? "caf\u00E9" : "th\u00E9");
            // The same words, typed as e + U+0301 on some tokens only.
            mixed.SetValue(id, 0, id % 3 == 0 ? (id % 2 == 0 ? "caf\u00E9" : "cafe\u0301") : (id % 2 == 0 ? "th\u00E9" : "the\u0301"));
        }
        string expected = Path.Combine(precomposed.Output, "rarity.csv"), actual = Path.Combine(mixed.Output, "rarity.csv");

        Assert.Equal(0, Cli.Run(CollectionCommands.Rarity(precomposed.Dir, expected)).Code);
        Assert.Equal(0, Cli.Run(CollectionCommands.Rarity(mixed.Dir, actual)).Code);

        Assert.Equal(File.ReadAllText(expected), File.ReadAllText(actual));
        var loaded = NftCollectionLoader.Load(mixed.Dir, new NftCollectionLoadOptions { LoadImages = false });
        Assert.Equal(["caf\u00E9", "th\u00E9"], loaded.Tokens.Select(t => t.Find("Background")!.Value).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("rarity")]
    [InlineData("train-reward")]
    [InlineData("train-diffusion")]
    [InlineData("train-trait-classifier")]
    [InlineData("evaluate")]
    public void AnEmptyCollectionIsCalledEmptyNamingItsFile(string command)
    {
        using var c = new HostileCollection();
        c.ReplaceMetadata("_metadata.json", "[]");

        var error = CollectionCommands.Fails(command, c);

        Assert.Contains("is empty", error);
        Assert.Contains(Path.Combine(c.Dir, "_metadata.json"), error);
    }

    [Theory]
    [InlineData("train-reward")]
    [InlineData("train-diffusion")]
    public void MixedImageSizesNameTheTokenItsSizeTheExpectedSizeAndTheFile(string command)
    {
        using var c = new HostileCollection();
        HostileCollection.WritePng(c.Image(7), 64, 64);

        var error = CollectionCommands.Fails(command, c);

        Assert.Contains("token '7'", error);
        Assert.Contains("64×64", error);
        Assert.Contains("expected 32×32", error);
        Assert.Contains(c.Image(7), error);
    }

    [Theory]
    [InlineData("train-reward")]
    [InlineData("train-diffusion")]
    [InlineData("train-trait-classifier")]
    [InlineData("evaluate")]
    public void MissingImagesNameTheTokenAndTheExpectedPath(string command)
    {
        using var c = new HostileCollection();
        File.Delete(c.Image(5));
        File.Delete(c.Image(9));

        var error = CollectionCommands.Fails(command, c);

        Assert.Contains("token '5'", error);
        Assert.Contains(c.Image(5), error);
        Assert.Contains("9", error);
    }

    [Fact]
    public void EvaluateRefusesAReferenceWithMixedImageSizesInsteadOfNullRarity()
    {
        using var c = new HostileCollection();
        HostileCollection.WritePng(c.Image(3), 64, 64);

        var error = CollectionCommands.Fails("evaluate", c);

        Assert.Contains("token '3'", error);
        Assert.Contains(c.Image(3), error);
        Assert.False(File.Exists(Path.Combine(c.Output, "metrics.json")), "evaluate wrote metrics");
    }

    [Fact]
    public void EvaluateSaysWhyTheNounsDecoderDoesNotReadAReferenceOfAnotherSize()
    {
        using var c = new HostileCollection();
        foreach (int id in c.Ids) HostileCollection.WritePng(c.Image(id), 48, 48);

        var (code, _, error) = Cli.Run(CollectionCommands.Evaluate(c.Dir, Path.Combine(c.Output, "metrics.json")));

        Assert.True(code == 0, error);
        Assert.Contains("rarity metrics are null", error);
        Assert.Contains("reads 32×32 images", error);
        Assert.Contains("48×48", error);
    }

    [Fact]
    public void ACollectionWithoutTraitsIsRefusedByRaritySayingWhatWasExpected()
    {
        using var c = new HostileCollection().WithoutDerivedFiles();
        c.EditTokens((_, json) => json["attributes"] = new System.Text.Json.Nodes.JsonArray());

        var error = CollectionCommands.Fails("rarity", c);

        Assert.Contains("has no traits", error);
        Assert.Contains("expected OpenSea attributes", error);
        Assert.Contains(Path.Combine(c.Dir, "metadata"), error);
    }

    [Theory]
    [InlineData("train-reward")]
    [InlineData("train-trait-classifier")]
    public void TrainingOnTraitsThatNeverVaryIsRefusedSayingWhatWasExpected(string command)
    {
        using var c = new HostileCollection().WithoutDerivedFiles();
        c.EditTokens((_, json) =>
        {
            foreach (var a in json["attributes"]!.AsArray()) a!["value"] = "same";
        });

        var error = CollectionCommands.Fails(command, c);

        Assert.Contains("'Background' = 'same'", error);
        Assert.Contains("at least two values", error);
    }

    [Fact]
    public void AnUnpairedSurrogateEscapeIsAnErrorNamingTheFile()
    {
        using var c = new HostileCollection();
        string text = File.ReadAllText(c.TokenFile(3));
        int at = text.IndexOf("\"value\": \"", StringComparison.Ordinal) + "\"value\": \"".Length;
        File.WriteAllText(c.TokenFile(3), text[..at] + "\\ud83d" + text[at..]);

        var error = CollectionCommands.Fails("rarity", c);

        Assert.Contains(c.TokenFile(3), error);
        Assert.Contains("not valid Unicode", error);
    }
}
