using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>
/// Reads the inputs of an evaluation from disk: a folder of generated images (as <c>diffnft generate</c> writes it, or any
/// folder of images) and a reference, which is either a collection (metadata and images, as <c>diffnft collection</c>
/// writes it) or a plain folder of images.
/// </summary>
internal static class EvaluationData
{
    private static readonly string[] s_imageExtensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"];
    private static readonly string[] s_metadataExtensions = [".json", ".jsonl", ".csv"];

    /// <summary>
    /// Loads the images of a folder: its <c>images/</c> sub-folder when there is one (the layout of <c>diffnft generate</c>,
    /// whose <c>grid.png</c> contact sheet is thereby left out), else the folder itself. Files with an image extension
    /// (.png, .jpg, .jpeg, .gif, .bmp, .webp) are read in natural order of their names (<c>2.png</c> before <c>10.png</c>).
    /// A folder a diffnft command wrote (its <c>.diffnft-output</c> marker lists the files) gives only the images its last
    /// run wrote, so that images of an earlier run, or a user's, are never mixed in.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder holds no images, a file is not a decodable image, or the run that
    /// writes the folder has not finished.</exception>
    public static NftCollection LoadImageFolder(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"Image folder '{full}' does not exist.");
        string dir = Directory.Exists(Path.Combine(full, "images")) ? Path.Combine(full, "images") : full;
        var written = OutputMarker.WrittenFiles(full);
        var files = written is null
            ? Directory.EnumerateFiles(dir).Where(IsImageFile).ToList()
            : written.Where(f => IsImageFile(f) && string.Equals(Path.GetDirectoryName(f), dir, StringComparison.Ordinal)).ToList();
        if (files.Count == 0)
            throw new InvalidDataException($"'{dir}' holds no images: expected files ending in {string.Join(", ", s_imageExtensions)}.");
        files.Sort(NaturalCompare);
        var images = new RgbaImage[files.Count];
        ParallelLoop.For(files.Count, i => images[i] = PngCodec.Load(files[i]), cancellationToken);
        var tokens = new NftToken[files.Count];
        for (int i = 0; i < files.Count; i++)
            tokens[i] = new NftToken(Path.GetFileName(files[i]), []) { Image = images[i], ImagePath = files[i] };
        return new NftCollection(tokens, Path.GetFileName(full)) { SourcePath = dir };
    }

    /// <summary>
    /// Loads a reference: a collection folder or file (anything <see cref="NftCollectionLoader"/> reads, with images) when
    /// the folder holds metadata — a <c>metadata/</c> or <c>json/</c> folder, or a .json, .jsonl or .csv file — otherwise a
    /// plain folder of images (<see cref="LoadImageFolder"/>), whose tokens then have no traits.
    /// </summary>
    /// <exception cref="InvalidDataException">The collection is empty, has tokens without images or images of more than one
    /// size, or its metadata is malformed.</exception>
    public static NftCollection LoadReference(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full) && !HasMetadata(full)) return LoadImageFolder(full, cancellationToken);
        var collection = NftCollectionLoader.Load(full, new NftCollectionLoadOptions { LoadCaptions = false });
        const string task = "the evaluation's reference";
        CollectionRequirements.RequireTokens(collection, 1, task);
        CollectionRequirements.RequireImages(collection, task);
        CollectionRequirements.RequireOneImageSize(collection, task);
        return collection;
    }

    private static bool HasMetadata(string dir) =>
        Directory.Exists(Path.Combine(dir, "metadata")) || Directory.Exists(Path.Combine(dir, "json")) ||
        Directory.EnumerateFiles(dir).Any(f => s_metadataExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase));

    private static bool IsImageFile(string path) => s_imageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Compares file names so that runs of digits compare by value (2 before 10), the rest ordinally.</summary>
    internal static int NaturalCompare(string a, string b)
    {
        a = Path.GetFileName(a);
        b = Path.GetFileName(b);
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var da = a.AsSpan(si, i - si).TrimStart('0');
                var db = b.AsSpan(sj, j - sj).TrimStart('0');
                if (da.Length != db.Length) return da.Length.CompareTo(db.Length);
                int c = da.SequenceCompareTo(db);
                if (c != 0) return c;
            }
            else
            {
                if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                i++;
                j++;
            }
        }
        int tail = (a.Length - i).CompareTo(b.Length - j);
        return tail != 0 ? tail : string.CompareOrdinal(a, b);
    }
}
