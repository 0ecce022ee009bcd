using System.Text.Json;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Nouns;

/// <summary>A generated Nouns collection written by <see cref="NftCollectionWriter"/> and loaded back.</summary>
public class NounsCollectionRoundTripTests
{
    [Fact]
    public void FiftyNounsComeBackWithTheirCaptionsTraitsAndImages()
    {
        using var tmp = new NounsTestData.TempDir();
        var generated = NounsCollectionGenerator.GenerateDetailed(new NounsCollectionOptions { Count = 50, Seed = 5 });
        NftCollectionWriter.Write(generated.Collection, tmp.Path);

        var loaded = NftCollectionLoader.Load(tmp.Path);
        Assert.Equal(50, loaded.Count);
        Assert.True(loaded.HasImages);
        for (int i = 0; i < 50; i++)
        {
            var expected = generated.Tokens[i];
            var actual = loaded.Tokens[i];
            Assert.Equal(expected.TokenId, actual.TokenId);
            Assert.Equal(expected.Attributes, actual.Attributes);
            Assert.Equal(NounsMetadata.Caption(generated.Seeds[i]), actual.Caption);
            Assert.Equal($"Noun {i}", actual.Name);
            Assert.Equal(expected.Description, actual.Description);
            Assert.Equal($"images/{i}.png", actual.ImageUri);
            Assert.True(NounsRenderer.Render(generated.Seeds[i]).PixelEquals(actual.Image!), $"Token {i}: the image differs from its seed's rendering.");
        }
        Assert.Equal(generated.Tokens.Select(t => t.Caption), NftCaptions.ForCollection(loaded, "ignored"));

        // The per-token file is plain OpenSea metadata: the caption lives only in captions.csv.
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.Path, "metadata", "7.json")));
        Assert.Equal(["name", "description", "image", "attributes"], doc.RootElement.EnumerateObject().Select(p => p.Name));
    }
}
