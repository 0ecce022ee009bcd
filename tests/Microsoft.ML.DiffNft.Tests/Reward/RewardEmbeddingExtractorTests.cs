using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reward;

[Collection(TorchGlobalRngCollection.Name)]
public class RewardEmbeddingExtractorTests
{
    [Fact]
    public void FeaturesAreTheModelsEmbeddingsInInputOrder()
    {
        var model = RewardTestData.Model;
        var images = RewardTestData.Collection.Images.Take(21).Reverse().ToList();
        IImageFeatureExtractor extractor = new RewardEmbeddingExtractor(model);
        Assert.Equal("vit", extractor.Name);
        Assert.Null(extractor.CacheIdentity);
        Assert.Equal(model.EmbeddingSize, extractor.Dimension);

        var features = extractor.Extract(images);
        Assert.Equal(images.Count, features.Length);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = model.Forward(ImageTensors.ToTensor(images)).Embedding;
        for (int i = 0; i < images.Count; i++)
        {
            Assert.Equal(extractor.Dimension, features[i].Length);
            var row = expected[i].data<float>().ToArray();
            for (int j = 0; j < row.Length; j++) Assert.Equal(row[j], features[i][j], 1e-6f);
        }
        // Different tokens get different features; a repeated image gets the same ones.
        Assert.NotEqual(features[0], features[1]);
        var twice = extractor.Extract(new[] { images[3], images[3] });
        Assert.Equal(twice[0], twice[1]);
        Assert.Equal("reward-embedding:abc", new RewardEmbeddingExtractor(model, cacheIdentity: "abc").CacheIdentity);
    }
}
