using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Reliability;
using Microsoft.ML.DiffNft.TraitClassification;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>
/// The collection requirements the library checks before training or evaluating, as API callers meet them: the token,
/// its size and file, the most common size, the constant trait, the empty view.
/// </summary>
public sealed class CollectionRequirementsTests
{
    [Fact]
    public void RequirementsNameTheTokenTheSizeAndTheMostCommonSize()
    {
        var tokens = Enumerable.Range(0, 5).Select(i => new NftToken(i.ToString(), [new NftAttribute("Head", i % 2 == 0 ? "a" : "b")])
        {
            Image = new RgbaImage(i == 0 ? 16 : 32, i == 0 ? 16 : 32),
        }).ToList();
        var collection = new NftCollection(tokens, "mem");

        // The first token is the odd one: the expected size is the most common one, not the first token's.
        Assert.Contains("token '0' has a 16×16 image, but 4 of its 5 images are 32×32", CollectionRequirements.ImageSizeProblem(collection, "x"));
        Assert.Contains("is empty", CollectionRequirements.TokenCountProblem(new NftCollection([], "none"), 1, "x"));
        Assert.Null(CollectionRequirements.TraitProblem(collection, "x", varying: true));
        var constant = new NftCollection(tokens.Select(t => new NftToken(t.TokenId, [new NftAttribute("Head", "a")])).ToList(), "same");
        Assert.Contains("'Head' = 'a'", CollectionRequirements.TraitProblem(constant, "x", varying: true));
    }

    [Fact]
    public void TheTraitClassifierApiNamesTheMissingImagesExpectedFile()
    {
        using var c = new HostileCollection();
        File.Delete(c.Image(4));
        var collection = NftCollectionLoader.Load(c.Dir);

        var ex = Assert.Throws<ArgumentException>(() => new TraitClassifierTrainer(new TraitClassifierOptions()).Train(collection));

        Assert.Contains("token '4' has no image", ex.Message);
        Assert.Contains(c.Image(4), ex.Message);
    }

    [Fact]
    public void TheEvaluatorApiRefusesAReferenceOfMixedSizesNamingTheFile()
    {
        using var c = new HostileCollection();
        HostileCollection.WritePng(c.Image(2), 40, 40);
        var reference = NftCollectionLoader.Load(c.Dir);
        var generated = reference.Tokens.Where(t => t.Image!.Width == 32).Select(t => t.Image!).ToList();

        var ex = Assert.Throws<ArgumentException>(() => new MLContext(seed: 1).NftGeneration.Evaluate(generated, reference,
            new NftGenerationEvaluatorOptions { SampleSize = 2 }));

        Assert.Contains("token '2' has a 40×40 image", ex.Message);
        Assert.Contains(c.Image(2), ex.Message);
    }

    [Fact]
    public void TraitRarityOnAnEmptyCollectionSaysItHasNoRows()
    {
        var view = new NftCollection([], "empty").ToDataView();

        var ex = Assert.Throws<InvalidOperationException>(() => new MLContext().Transforms.DiffNft.ComputeTraitRarity().Fit(view));

        Assert.Contains("no rows", ex.Message);
    }
}
