using Microsoft.ML.DiffNft.Collections.Formats;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// Loads an NFT collection's metadata (and optionally images) from the layouts collections are published in:
/// a folder of per-token OpenSea JSON files, one JSON array (<c>_metadata.json</c>), JSON Lines, a long or a wide CSV.
/// See <see cref="NftCollectionFormat"/> for each layout.
/// </summary>
/// <remarks>
/// <para>Values keep their kind: JSON strings are <see cref="NftValueKind.String"/>, numbers <see cref="NftValueKind.Number"/>
/// with their exact JSON text, booleans <see cref="NftValueKind.Boolean"/>; <c>display_type</c> and <c>max_value</c> are kept.
/// A null value means the token lacks the trait. An attribute without a trait type (OpenSea shows those as generic
/// properties) is kept under <see cref="NftAttribute.UntypedTraitType"/> (a second one under "(untyped) 2", …).</para>
/// <para>Token ids are non-negative integers kept as canonical decimal text (no leading zeros).</para>
/// <para>Trait types, string values and captions are normalised to Unicode NFC, so that text differing only in how
/// accents are encoded (precomposed "é" or "e" + U+0301) is one value; other fields keep their text exactly. Text that
/// is not valid Unicode (an unpaired surrogate) is an <see cref="InvalidDataException"/> naming the token and field.</para>
/// <para>Malformed input raises <see cref="InvalidDataException"/> naming the file, the line (1-based) or token, the field
/// and what was expected; a repeated token id names both places.</para>
/// <para>A <c>captions.csv</c> (<c>token_id,caption</c>, as <see cref="NftCollectionWriter"/> writes it) beside the
/// metadata, or beside its <c>metadata/</c> folder, fills <see cref="NftToken.Caption"/>; a caption for a token the
/// metadata lacks is an error naming the file, line and id.</para>
/// </remarks>
public static class NftCollectionLoader
{
    /// <summary>Loads a collection from a file or folder.</summary>
    /// <param name="path">A metadata file, or a folder: per-token files, a <c>metadata/</c> folder of them
    /// (as <c>diffnft collection</c> and <see cref="NftCollectionWriter"/> write), <c>_metadata.json</c>, <c>metadata.jsonl</c>
    /// (the CrypToadz folder), or a single .json/.jsonl/.csv file.</param>
    /// <param name="options">Format and image options; null for the defaults.</param>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="InvalidDataException">The metadata or images are malformed.</exception>
    public static NftCollection Load(string path, NftCollectionLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new NftCollectionLoadOptions();
        if (!Enum.IsDefined(options.Format))
            throw new ArgumentOutOfRangeException(nameof(options), options.Format, "Unknown collection format.");
        if (options.AtlasTileWidth is <= 0 || options.AtlasTileHeight is <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "Atlas tile width and height must be positive.");
        if (options.MaxImagePixels <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxImagePixels, $"{nameof(NftCollectionLoadOptions.MaxImagePixels)} must be positive.");

        var source = CollectionSource.Resolve(path, options.Format);
        List<NftToken> tokens = source.Format switch
        {
            NftCollectionFormat.TokenFiles => Directory.Exists(source.MetadataPath)
                ? TokenFilesFormat.ReadDirectory(source.MetadataPath)
                : [TokenFilesFormat.ReadFile(source.MetadataPath, TokenFilesFormat.IdFromFileName(source.MetadataPath))],
            NftCollectionFormat.JsonArray => JsonArrayFormat.Read(source.MetadataPath),
            NftCollectionFormat.JsonLines => JsonLinesFormat.Read(source.MetadataPath),
            NftCollectionFormat.LongCsv => LongCsvFormat.Read(source.MetadataPath),
            NftCollectionFormat.WideCsv => WideCsvFormat.Read(source.MetadataPath),
            _ => throw new InvalidOperationException($"Unhandled format {source.Format}."),
        };

        // Captions first: a token's caption is fixed when it is made, so a captioned token replaces the one just read.
        if (options.LoadCaptions && source.FindCaptionsFile() is string captions) CaptionsCsvFormat.Apply(tokens, captions);
        // Before images are attached: normalising replaces tokens by copies.
        CollectionTextNormalization.Apply(tokens, source.MetadataPath);
        CollectionImageOrigin? origin = null;
        IReadOnlyList<string> searched = [];
        if (options.ImagesPath is not null)
        {
            origin = ImageSources.AttachExplicit(tokens, options.ImagesPath, options);
            searched = [Path.GetFullPath(options.ImagesPath)];
        }
        // Without the main package there is nothing to decode with: looking for images beside the metadata is then
        // skipped (a rarity-only application needs none), while an explicit ImagesPath is an error (ImageSupport.Require).
        else if (options.LoadImages && ImageSupport.Current is not null)
        {
            origin = ImageSources.AttachAuto(tokens, source.ImageSearchDirectories, options);
            searched = source.ImageSearchDirectories;
        }

        return new NftCollection(tokens, options.Name ?? source.DefaultName)
        {
            SourcePath = source.MetadataPath,
            ImageOrigin = origin,
            ImageSearchDirectories = searched,
        };
    }

    /// <summary>Tells which format <see cref="Load"/> would read at <paramref name="path"/> with <see cref="NftCollectionFormat.Auto"/>.</summary>
    public static NftCollectionFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return CollectionSource.Resolve(path, NftCollectionFormat.Auto).Format;
    }
}
