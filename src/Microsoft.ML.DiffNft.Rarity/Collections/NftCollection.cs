using Microsoft.ML;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// A whole NFT collection in memory: tokens with their traits and, optionally, images.
/// Load one with <c>NftCollectionLoader</c>, turn it into an <c>IDataView</c> with
/// <c>ToDataView</c>, write it back with <c>NftCollectionWriter</c>.
/// </summary>
public sealed class NftCollection
{
    /// <summary>Creates a collection. Token ids must be unique.</summary>
    /// <param name="tokens">The tokens, in collection order.</param>
    /// <param name="name">A display name (for example the folder or file it came from).</param>
    public NftCollection(IReadOnlyList<NftToken> tokens, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var types = new List<string>();
        var typeSet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            if (token is null) throw new ArgumentException("A collection cannot contain a null token.", nameof(tokens));
            if (!seen.Add(token.TokenId))
                throw new ArgumentException($"Token id '{token.TokenId}' appears more than once in collection '{name}'.", nameof(tokens));
            foreach (var a in token.Attributes)
                if (typeSet.Add(a.TraitType)) types.Add(a.TraitType);
        }
        Tokens = tokens;
        TraitTypes = types;
        Name = name;
    }

    /// <summary>The tokens, in collection order.</summary>
    public IReadOnlyList<NftToken> Tokens { get; }

    /// <summary>Every trait type, in order of first appearance, exactly as written in the source.</summary>
    public IReadOnlyList<string> TraitTypes { get; }

    /// <summary>A display name, or null.</summary>
    public string? Name { get; }

    /// <summary>The metadata file or folder the loader read, for errors that must name it; null for a collection made in memory.</summary>
    internal string? SourcePath { get; init; }

    /// <summary>
    /// Where the loader took the images from (null when it found none, or did not look); errors about a token without an
    /// image name the file expected there.
    /// </summary>
    internal CollectionImageOrigin? ImageOrigin { get; init; }

    /// <summary>The folders the loader looked in for images, in order (empty when it did not look).</summary>
    internal IReadOnlyList<string> ImageSearchDirectories { get; init; } = [];

    /// <summary>The collection's name and source for messages: <c>'C' ('/data/C/metadata')</c>, or just the name.</summary>
    internal string Describe() =>
        SourcePath is null ? $"'{Name ?? "(unnamed)"}'" : $"'{Name ?? "(unnamed)"}' ('{SourcePath}')";

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>True when every token has an image.</summary>
    public bool HasImages => Tokens.Count > 0 && Tokens.All(t => t.Image is not null);

    /// <summary>
    /// The trait columns <see cref="ToDataView"/> makes, in <see cref="TraitTypes"/> order: each trait type with a column
    /// name of letters, digits and '_' ("Accessory II" → "Accessory_II", "# Traits" → "Traits"; a name taken by an earlier
    /// trait or by TokenId, Image or Caption gets "_2", "_3", …), and whether any token's value for it is a number.
    /// </summary>
    public IReadOnlyList<NftTraitColumn> GetTraitColumns()
    {
        var numeric = new HashSet<string>(StringComparer.Ordinal);
        foreach (var token in Tokens)
            foreach (var a in token.Attributes)
                if (a.Kind == NftValueKind.Number) numeric.Add(a.TraitType);
        var names = TraitColumnNaming.Assign(TraitTypes);
        var columns = new NftTraitColumn[names.Length];
        for (int i = 0; i < names.Length; i++)
            columns[i] = new NftTraitColumn(names[i], TraitTypes[i], numeric.Contains(TraitTypes[i]));
        return columns;
    }

    /// <summary>
    /// Exposes the collection as an ML.NET <see cref="IDataView"/> with columns <c>TokenId</c> (text), one text column per
    /// trait type (see <see cref="GetTraitColumns"/>; a token without the trait has empty text, numbers keep their exact
    /// text), <c>Caption</c> (text) when tokens have captions and <c>Image</c> (<c>ImageDataViewType</c> of
    /// <c>MLImage</c>, RGBA32) when every token has an image of one size and Microsoft.ML.DiffNft is deployed. Each trait column is
    /// annotated with <see cref="NftSchema.TraitTypeAnnotation"/> and <see cref="NftSchema.TraitIsNumericAnnotation"/>,
    /// which <see cref="NftSchema.GetTraitColumns"/> reads back. The view reflects the tokens at the time of the call.
    /// </summary>
    public IDataView ToDataView(NftCollectionDataViewOptions? options = null) =>
        new NftCollectionDataView(this, options ?? new NftCollectionDataViewOptions());
}
