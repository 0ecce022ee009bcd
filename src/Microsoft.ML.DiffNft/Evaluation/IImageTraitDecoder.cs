using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// The independent judge of generated images' traits: recovers each image's traits so they can be scored against the
/// reference collection's rarity table. It must never be the reward model that was optimised. Built in: exact part
/// matching for the Nouns art (picked automatically for a Nouns reference) and
/// <see cref="TraitClassification.TraitClassifier.AsTraitDecoder"/> (a held-out classifier for any collection).
/// </summary>
public interface IImageTraitDecoder
{
    /// <summary>A short name for reports (for example <c>nouns-parts</c>).</summary>
    string Name { get; }

    /// <summary>Decodes each image's traits; results are in input order.</summary>
    /// <param name="images">The images.</param>
    /// <param name="cancellationToken">Stops the work early.</param>
    IReadOnlyList<DecodedImageTraits> Decode(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default);
}

/// <summary>What an <see cref="IImageTraitDecoder"/> recovered from one image.</summary>
/// <param name="IsDecodable">Whether the image is a clean member of the collection's design space (every part matches closely).</param>
/// <param name="Attributes">The decoded traits (trait type and value), meaningful only when <paramref name="IsDecodable"/> is true.</param>
public sealed record DecodedImageTraits(bool IsDecodable, IReadOnlyList<NftAttribute> Attributes)
{
    /// <summary>
    /// Trait types whose value the image cannot show (for example a Noun's body completely covered by its accessory):
    /// the decoded value is one valid reading among several. Novelty and duplicate detection treat them as wildcards;
    /// rarity scores the image by the reading that makes it least rare, so a hidden part never makes an image rare.
    /// Empty by default.
    /// </summary>
    public IReadOnlyCollection<string> UnobservableTraitTypes { get; init; } = [];
}
