namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>The result of <see cref="NounsCollectionGenerator.Generate"/>: the tokens, their seeds and the part space they came from.</summary>
internal sealed class NounsGeneratedCollection
{
    private readonly double[][] _probabilities;

    internal NounsGeneratedCollection(NounsArt art, NounsSubset parts, IReadOnlyList<NounSeed> seeds, NftCollection collection,
        long combinationCount, double[][] probabilities)
    {
        Art = art;
        Parts = parts;
        Seeds = seeds;
        Collection = collection;
        CombinationCount = combinationCount;
        _probabilities = probabilities;
    }

    /// <summary>The part library the tokens were drawn from.</summary>
    internal NounsArt Art { get; }

    /// <summary>The part subset the tokens were drawn from (give it to <see cref="NounsDecoderOptions.Candidates"/>).</summary>
    internal NounsSubset Parts { get; }

    /// <summary>The seed of each token, in token order (token id = position).</summary>
    internal IReadOnlyList<NounSeed> Seeds { get; }

    /// <summary>The tokens as an <see cref="NftCollection"/> (traits, captions, images when rendered).</summary>
    public NftCollection Collection { get; }

    /// <summary>The tokens, in id order.</summary>
    public IReadOnlyList<NftToken> Tokens => Collection.Tokens;

    /// <summary>
    /// How many distinct combinations of the allowed parts satisfy the rules — the largest unique collection these
    /// options can make.
    /// </summary>
    public long CombinationCount { get; }

    /// <summary>
    /// The requested probability of each part of the layer's subset (index = part index), before rules and uniqueness;
    /// for exact counts, count / total.
    /// </summary>
    internal IReadOnlyList<double> RequestedProbabilities(NounsLayer layer) => _probabilities[(int)layer];
}
