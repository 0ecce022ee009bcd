using System.Globalization;

namespace Microsoft.ML.DiffNft.Collections;

/// <summary>
/// What a task needs of a collection, checked before any training starts so that a bad collection fails in a second
/// with one message instead of after hours (or with a message about an ML.NET schema): enough tokens, traits that vary,
/// an image for every token, one image size. Each message starts with the collection's name and file or folder, names
/// the token, the value or file involved, and says what was expected. The <c>…Problem</c> methods return it (null when
/// the collection is fine) for callers that throw their own exception type; the <c>Require…</c> methods throw it as an
/// <see cref="InvalidDataException"/>.
/// </summary>
internal static class CollectionRequirements
{
    /// <summary>Throws unless the collection has at least <paramref name="minimum"/> tokens (see <see cref="TokenCountProblem"/>).</summary>
    public static void RequireTokens(NftCollection collection, int minimum, string task, string? why = null) =>
        Throw(TokenCountProblem(collection, minimum, task, why));

    /// <summary>Throws unless the collection has usable traits (see <see cref="TraitProblem"/>).</summary>
    public static void RequireTraits(NftCollection collection, string task, bool varying) => Throw(TraitProblem(collection, task, varying));

    /// <summary>Throws unless every token has an image (see <see cref="MissingImageProblem"/>).</summary>
    public static void RequireImages(NftCollection collection, string task) => Throw(MissingImageProblem(collection, task));

    /// <summary>Throws unless every image has one size (see <see cref="ImageSizeProblem"/>).</summary>
    public static void RequireOneImageSize(NftCollection collection, string task, (int Width, int Height)? expected = null) =>
        Throw(ImageSizeProblem(collection, task, expected));

    /// <summary>An empty collection, or one with fewer than <paramref name="minimum"/> tokens.</summary>
    /// <param name="collection">The collection.</param>
    /// <param name="minimum">The fewest tokens the task works with (at least 1).</param>
    /// <param name="task">What needs them, for the message ("train-reward", "the trait classifier").</param>
    /// <param name="why">Why that many, or null ("one is held out").</param>
    public static string? TokenCountProblem(NftCollection collection, int minimum, string task, string? why = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        string reason = why is null ? "" : $" ({why})";
        if (collection.Count == 0)
            return $"Collection {collection.Describe()} is empty: it lists no tokens; {task} needs at least {Tokens(minimum)}{reason}.";
        if (collection.Count < minimum)
            return $"Collection {collection.Describe()} has only {Tokens(collection.Count)}; {task} needs at least {minimum}{reason}.";
        return null;
    }

    /// <summary>
    /// No trait at all, only numeric traits (which rarity leaves out), or — with <paramref name="varying"/> — no text
    /// trait type taking two or more values (a token without the trait counts as a value): a trait that every token
    /// shares tells tokens apart no more than none.
    /// </summary>
    public static string? TraitProblem(NftCollection collection, string task, bool varying)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var columns = collection.GetTraitColumns();
        if (columns.Count == 0)
            return $"Collection {collection.Describe()} has no traits: none of its {Tokens(collection.Count)} has an attribute; {task} needs them " +
                   "(expected OpenSea attributes such as [{\"trait_type\": \"Head\", \"value\": \"goat\"}], or trait columns in a CSV).";
        var text = columns.Where(c => !c.IsNumeric).Select(c => c.TraitType).ToList();
        if (text.Count == 0)
            return $"Collection {collection.Describe()} has only numeric traits ({string.Join(", ", columns.Take(5).Select(c => Quote(c.TraitType)))}), which rarity leaves out; " +
                   $"{task} needs at least one trait type with text values.";
        if (!varying) return null;
        var single = new List<string>();
        foreach (string type in text)
        {
            var values = collection.Tokens.Select(t => t.Find(type)?.Value).Distinct(StringComparer.Ordinal).Take(2).ToList();
            if (values.Count > 1) return null;
            single.Add($"{Quote(type)} = {(values[0] is { } v ? Quote(v) : "(absent)")}");
        }
        return $"Collection {collection.Describe()}: every trait type has one value on all {Tokens(collection.Count)} " +
               $"({string.Join(", ", single.Take(5))}{(single.Count > 5 ? ", …" : "")}); {task} learns from the differences between tokens, " +
               "so it needs a trait type with at least two values.";
    }

    /// <summary>The first token without an image, and the file that was expected for it; or no images at all, and where they were looked for.</summary>
    public static string? MissingImageProblem(NftCollection collection, string task)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var missing = collection.Tokens.Where(t => t.Image is null).ToList();
        if (missing.Count == 0) return null;
        var first = missing[0];
        // The loader looked and found no image anywhere: say where they were expected, not which token came first.
        if (missing.Count == collection.Count && collection.ImageOrigin is null && collection.ImageSearchDirectories.Count > 0)
            return $"Collection {collection.Describe()} has no images; {task} needs one per token: expected an images/ folder holding one image per " +
                   $"token named by its id, such as '{Path.Combine(collection.ImageSearchDirectories[0], "images", first.TokenId + ".png")}', or an atlas with its index.";
        string expectedFile = collection.ImageOrigin is { } origin ? $"expected {origin.Expected(first.TokenId)}" : "every token needs one";
        string others = missing.Count == 1 ? "" : $" ({missing.Count - 1} other token(s) lack one too: {List(missing.Skip(1))})";
        return $"Collection {collection.Describe()}: token '{first.TokenId}' has no image: {expectedFile}{others}; {task} needs one image per token.";
    }

    /// <summary>
    /// The first image whose size is not <paramref name="expected"/> (when given) or the most common size (the first
    /// token's on a tie): its token, size and file, and how many images have the expected size. Tokens without an image
    /// are skipped (see <see cref="MissingImageProblem"/>).
    /// </summary>
    public static string? ImageSizeProblem(NftCollection collection, string task, (int Width, int Height)? expected = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var sized = collection.Tokens.Where(t => t.Image is not null).ToList();
        if (sized.Count == 0) return null;
        var size = expected ?? sized.GroupBy(t => (t.Image!.Width, t.Image.Height))
            .Select((g, order) => (g.Key, Count: g.Count(), Order: order))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Order).First().Key;
        var odd = sized.Where(t => (t.Image!.Width, t.Image.Height) != size).ToList();
        if (odd.Count == 0) return null;
        var token = odd[0];
        string file = token.ImagePath is null ? "" : $" ('{token.ImagePath}')";
        string others = odd.Count == 1 ? "" : $"; {odd.Count - 1} other image(s) differ too ({List(odd.Skip(1))})";
        return $"Collection {collection.Describe()}: token '{token.TokenId}' has a {token.Image!.Width}×{token.Image.Height} image{file}, but " +
               $"{sized.Count - odd.Count} of its {sized.Count} images are {size.Width}×{size.Height}{others}; " +
               $"{task} needs every image at one size (expected {size.Width}×{size.Height}).";
    }

    private static void Throw(string? problem)
    {
        if (problem is not null) throw new InvalidDataException(problem);
    }

    private static string List(IEnumerable<NftToken> tokens)
    {
        var ids = tokens.Take(6).Select(t => t.TokenId).ToList();
        return ids.Count <= 5 ? string.Join(", ", ids) : string.Join(", ", ids.Take(5)) + ", …";
    }

    private static string Tokens(int n) => n == 1 ? "1 token" : n.ToString(CultureInfo.InvariantCulture) + " tokens";

    private static string Quote(string text) => "'" + UnicodeText.Printable(text, 60) + "'";
}
