namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// One output head of a <see cref="TraitClassifier"/>: a trait type and the values it can predict. Class 0 means "the
/// token lacks this trait type"; class k ≥ 1 is <see cref="Values"/>[k − 1].
/// </summary>
/// <param name="TraitType">The trait type as written in the training collection's metadata.</param>
/// <param name="Values">
/// The values seen on training tokens, most frequent first (ties in ordinal order); trimmed and lower-cased values are
/// distinct, and each is spelled as its most frequent spelling in the training split.
/// </param>
internal sealed record TraitHead(string TraitType, IReadOnlyList<string> Values)
{
    /// <summary>Number of classes: the values plus the "missing" class.</summary>
    public int ClassCount => Values.Count + 1;

    /// <summary>The value of class <paramref name="classIndex"/>, or null for class 0 (the trait is missing).</summary>
    public string? ValueOf(int classIndex)
    {
        if (classIndex < 0 || classIndex > Values.Count)
            throw new ArgumentOutOfRangeException(nameof(classIndex), classIndex, $"Head '{TraitType}' has classes 0 … {Values.Count}.");
        return classIndex == 0 ? null : Values[classIndex - 1];
    }
}

/// <summary>The shape of a <see cref="TraitClassifier"/>'s network.</summary>
internal sealed record TraitClassifierArchitecture
{
    /// <summary>Side of the square network input; other sizes are resampled to it.</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>Channels of the first convolution stage (the others have 2× and 4×).</summary>
    public int Width { get; init; } = 32;

    /// <summary>Width of the hidden layer before the heads.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>Side of the feature grid after the three stride-2 convolutions: ⌈S / 8⌉.</summary>
    internal int GridSide => (ImageSize + 7) / 8;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        // Upper bounds guard against absurd sizes read from a damaged model file allocating gigabytes before shape checks.
        if (ImageSize is < 8 or > 256) throw new ArgumentException($"ImageSize must lie in 8 … 256, got {ImageSize}.");
        if (Width is < 4 or > 256 || Width % 4 != 0) throw new ArgumentException($"Width must be a multiple of 4 in 4 … 256, got {Width}.");
        if (HiddenSize is < 1 or > 4096) throw new ArgumentException($"HiddenSize must lie in 1 … 4096, got {HiddenSize}.");
    }
}
