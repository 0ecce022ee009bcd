namespace Microsoft.ML.DiffNft.Collections;

/// <summary>How a trait value was written in the source metadata.</summary>
public enum NftValueKind
{
    /// <summary>A JSON string (or a CSV cell that is not marked numeric).</summary>
    String,
    /// <summary>A JSON number; <see cref="NftAttribute.Value"/> holds its invariant-culture text.</summary>
    Number,
    /// <summary>A JSON boolean; <see cref="NftAttribute.Value"/> is "true" or "false".</summary>
    Boolean,
}

/// <summary>
/// One trait of one token, as in OpenSea metadata: <c>{"trait_type": "Head", "value": "goat"}</c>.
/// The value is always kept as text (invariant culture for numbers) together with its original kind and
/// <c>display_type</c>, so that numeric traits survive a round trip unchanged.
/// </summary>
/// <param name="TraitType">The trait type exactly as written in the source (not trimmed or lower-cased).</param>
/// <param name="Value">The value as text; numbers in invariant culture, exactly as written in JSON.</param>
/// <param name="Kind">Whether the value was a string, a number or a boolean.</param>
/// <param name="DisplayType">OpenSea's optional <c>display_type</c> ("number", "boost_number", "date", …).</param>
/// <param name="MaxValue">OpenSea's optional <c>max_value</c> for numeric traits, as invariant text.</param>
public sealed record NftAttribute(
    string TraitType,
    string Value,
    NftValueKind Kind = NftValueKind.String,
    string? DisplayType = null,
    string? MaxValue = null)
{
    /// <summary>
    /// The trait type given to values written without one (OpenSea shows <c>{"value": "x"}</c> as a generic property).
    /// A second untyped value of the same token becomes "(untyped) 2", and so on.
    /// </summary>
    public const string UntypedTraitType = "(untyped)";

    /// <summary>True when the value is numeric (a JSON number or a <c>display_type</c> that OpenSea renders as a number).</summary>
    public bool IsNumeric => Kind == NftValueKind.Number;
}
