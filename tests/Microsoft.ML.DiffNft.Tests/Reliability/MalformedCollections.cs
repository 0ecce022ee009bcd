using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// One malformed collection: how to damage the pristine one, which commands must still succeed on it (with a correct
/// result), and what every other command's one-line error must name.
/// </summary>
/// <param name="Class">The kind of damage, for counting: empty, tokens, images, traits, ids, unicode, encoding.</param>
/// <param name="Name">A short unique name (the theory's data).</param>
/// <param name="Damage">Edits the collection.</param>
/// <param name="Succeeds">The commands that must exit 0 on it; every other one must fail cleanly.</param>
/// <param name="Needles">What the error line must contain (the file, token or value), given the damaged collection.</param>
internal sealed record MalformedCollection(string Class, string Name, Action<HostileCollection> Damage, string[] Succeeds,
    Func<HostileCollection, string[]> Needles)
{
    public override string ToString() => Name;
}

/// <summary>
/// The malformed collections the fuzz theory runs every command on: empty ones, too few tokens, missing, extra, odd-sized
/// and undecodable images, traits that are missing, constant or numeric, duplicate ids, Unicode of every awkward kind
/// (emoji, ZWJ sequences, flags, decomposed accents, right-to-left scripts, lone surrogates, control characters, very long
/// values) and encodings (BOM, CRLF, UTF-16, invalid UTF-8, truncated JSON).
/// </summary>
internal static class MalformedCollections
{
    private const string R = "rarity", W = "train-reward", D = "train-diffusion", T = "train-trait-classifier", E = "evaluate";
    private static readonly string[] AllCommands = [R, W, D, T, E];
    private static readonly string[] None = [];

    public static readonly IReadOnlyList<MalformedCollection> All =
    [
        // Empty collections: said to be empty, naming the file that lists no token.
        new("empty", "empty-json-array", c => c.ReplaceMetadata("_metadata.json", "[]"), None,
            c => ["is empty", Path.Combine(c.Dir, "_metadata.json")]),
        new("empty", "empty-jsonl", c => c.ReplaceMetadata("metadata.jsonl", ""), None,
            c => ["is empty", Path.Combine(c.Dir, "metadata.jsonl")]),
        new("empty", "empty-csv-header-only", c => c.ReplaceMetadata("attributes.csv", "token_id,trait_type,value\n"), None,
            c => ["is empty", Path.Combine(c.Dir, "attributes.csv")]),
        new("empty", "empty-metadata-folder", c =>
        {
            c.WithoutDerivedFiles();
            foreach (var f in Directory.EnumerateFiles(Path.Combine(c.Dir, "metadata"))) File.Delete(f);
        }, None, c => ["holds no collection metadata", c.Dir]),
        // No metadata at all: a plain folder of images, which evaluate takes as a reference without traits.
        new("empty", "no-metadata", c =>
        {
            c.WithoutDerivedFiles();
            Directory.Delete(Path.Combine(c.Dir, "metadata"), recursive: true);
        }, [E], c => ["holds no collection metadata", c.Dir]),

        // Too few tokens.
        new("tokens", "one-token", c => c.KeepTokens(0), [R, D], _ => ["only 1"]),
        // Two tokens: the trait classifier holds one out, and one training token varies in nothing.
        new("tokens", "two-tokens", c => c.KeepTokens(0, 1), [R, W, D, E], _ => ["its only training token", "at least two values"]),
        new("tokens", "three-tokens", c => c.KeepTokens(0, 1, 2), AllCommands, _ => []),

        // Images.
        new("images", "missing-one-image", c => File.Delete(c.Image(5)), [R], c => ["token '5'", c.Image(5)]),
        new("images", "no-images", c => Directory.Delete(Path.Combine(c.Dir, "images"), recursive: true), [R],
            c => ["has no images", c.Image(0)]),
        new("images", "extra-image", c => HostileCollection.WritePng(Path.Combine(c.Dir, "images", "999.png"), 32, 32), AllCommands, _ => []),
        // The trait classifier resamples every image to one size, so it takes mixed sizes.
        new("images", "mixed-sizes", c => HostileCollection.WritePng(c.Image(7), 64, 64), [R, T], c => ["token '7'", "64×64", "32×32", c.Image(7)]),
        // A preset trains at the collection's size when its patches and levels divide it (48: yes; 30: no, by 4).
        new("images", "every-image-larger", c =>
        {
            foreach (int id in c.Ids) HostileCollection.WritePng(c.Image(id), 48, 48);
        }, AllCommands, _ => []),
        new("images", "every-image-an-odd-size", c =>
        {
            foreach (int id in c.Ids) HostileCollection.WritePng(c.Image(id), 30, 30);
        }, [R, W, T, E], _ => ["30×30", "divisible by 4"]),
        new("images", "not-a-png", c => File.WriteAllText(c.Image(3), "not a png"), [R], c => [c.Image(3)]),
        new("images", "zero-byte-image", c => File.WriteAllBytes(c.Image(3), []), [R], c => [c.Image(3)]),
        new("images", "truncated-png", c => File.WriteAllBytes(c.Image(3), File.ReadAllBytes(c.Image(3))[..60]), [R], c => [c.Image(3)]),
        new("images", "png-named-gif", c => File.Move(c.Image(3), Path.ChangeExtension(c.Image(3), ".gif")), AllCommands, _ => []),
        new("images", "image-is-a-folder", c =>
        {
            File.Delete(c.Image(4));
            Directory.CreateDirectory(c.Image(4));
        }, [R], c => ["token '4'", c.Image(4)]),

        // Traits.
        new("traits", "one-trait-one-value", c => c.EditTokens((_, j) => j["attributes"]![0]!["value"] = "same"), AllCommands, _ => []),
        new("traits", "every-trait-one-value", c => c.WithoutDerivedFiles().EditTokens((_, j) =>
        {
            foreach (var a in j["attributes"]!.AsArray()) a!["value"] = "same";
        }), [R, D, E], _ => ["'Background' = 'same'", "at least two values"]),
        new("traits", "no-traits", c => c.WithoutDerivedFiles().EditTokens((_, j) => j["attributes"] = new JsonArray()), [D, E],
            c => ["has no traits", Path.Combine(c.Dir, "metadata")]),
        new("traits", "numeric-traits-only", c => c.WithoutDerivedFiles().EditTokens((id, j) =>
        {
            foreach (var a in j["attributes"]!.AsArray()) a!["value"] = id % 3;
        }), [D, E], _ => ["only numeric traits"]),
        new("traits", "untyped-values", c => c.WithoutDerivedFiles().EditTokens((_, j) =>
        {
            foreach (var a in j["attributes"]!.AsArray()) a!.AsObject().Remove("trait_type");
        }), AllCommands, _ => []),
        new("traits", "sparse-trait", c => c.EditTokens((id, j) =>
        {
            if (id % 2 == 0) j["attributes"]!.AsArray().RemoveAt(2);
        }), AllCommands, _ => []),
        new("traits", "trait-type-twice", c => c.EditToken(6, j => j["attributes"]![1]!["trait_type"] = "Head"), None,
            c => [c.TokenFile(6), "'Head'"]),

        // Token ids.
        new("ids", "duplicate-id-in-array", c => c.ReplaceMetadata("_metadata.json",
            """[{"token_id": 1, "attributes": [{"trait_type": "Head", "value": "a"}]}, {"token_id": 1, "attributes": [{"trait_type": "Head", "value": "b"}]}]"""),
            None, _ => ["Token id 1 appears twice"]),
        new("ids", "leading-zero-twin", c => File.Copy(c.TokenFile(3), Path.Combine(c.Dir, "metadata", "03.json")), None,
            c => ["Token id 3", Path.Combine(c.Dir, "metadata", "03.json")]),
        new("ids", "stray-non-id-file", c => File.WriteAllText(Path.Combine(c.Dir, "metadata", "notes.json"), "{\"x\": 1}"), AllCommands, _ => []),

        // Unicode: everything that is valid text works everywhere; text that is not valid Unicode is named.
        new("unicode", "emoji-value", c => c.WithoutDerivedFiles().SetValue(0, 3, "spaghetti 😀"), AllCommands, _ => []),
        new("unicode", "emoji-trait-type", c => c.WithoutDerivedFiles().SetTraitType(0, "Back 🎨"), AllCommands, _ => []),
        new("unicode", "zwj-and-flag-values", c =>
        {
            c.WithoutDerivedFiles();
            foreach (int id in c.Ids) c.SetValue(id, 3, id % 2 == 0 ? "👩‍💻" : "🇯🇵 flag");
        }, AllCommands, _ => []),
        new("unicode", "decomposed-and-precomposed", c =>
        {
            c.WithoutDerivedFiles();
            foreach (int id in c.Ids) c.SetValue(id, 0, id % 2 == 0 ? "caf\u00E9" : "cafe\u0301");
        }, AllCommands, _ => []),
        new("unicode", "right-to-left-and-cjk", c =>
        {
            c.WithoutDerivedFiles();
            foreach (int id in c.Ids) c.SetValue(id, 4, (id % 3) switch { 0 => "עברית", 1 => "العربية", _ => "中文 ﬁ Ａ" });
        }, AllCommands, _ => []),
        new("unicode", "lone-combining-mark", c => c.WithoutDerivedFiles().SetValue(2, 1, "\u0301"), AllCommands, _ => []),
        new("unicode", "very-long-value", c => c.WithoutDerivedFiles().SetValue(3, 1, new string('x', 100_000)), AllCommands, _ => []),
        new("unicode", "control-characters", c => c.WithoutDerivedFiles().SetValue(3, 1, "a\u0001b\tc\nd\u007F\u0000e"), AllCommands, _ => []),
        new("unicode", "blank-values", c =>
        {
            c.WithoutDerivedFiles();
            c.SetValue(1, 1, "");
            c.SetValue(2, 1, "   ");
        }, AllCommands, _ => []),
        new("unicode", "emoji-in-captions-csv", c =>
        {
            string path = Path.Combine(c.Dir, "captions.csv");
            var lines = File.ReadAllLines(path);
            lines[1] = lines[1].Replace("a noun", "a noun 🎉\twith a tab", StringComparison.Ordinal);
            File.WriteAllLines(path, lines);
        }, AllCommands, _ => []),
        new("unicode", "unpaired-surrogate", c =>
        {
            string text = File.ReadAllText(c.TokenFile(3));
            File.WriteAllText(c.TokenFile(3), text.Replace("\"value\": \"", "\"value\": \"\\ud83d", StringComparison.Ordinal));
        }, None, c => [c.TokenFile(3), "not valid Unicode"]),
        new("unicode", "types-equal-after-nfc", c => c.EditToken(6, j =>
        {
            j["attributes"]![0]!["trait_type"] = "Caf\u00E9";
            j["attributes"]![1]!["trait_type"] = "Cafe\u0301";
        }), None, _ => ["token id 6", "NFC"]),

        // Encodings and damaged files.
        new("encoding", "bom-on-token-files", c =>
        {
            foreach (int id in c.Ids) File.WriteAllText(c.TokenFile(id), File.ReadAllText(c.TokenFile(id)), new UTF8Encoding(true));
        }, AllCommands, _ => []),
        new("encoding", "crlf-captions", c =>
        {
            string path = Path.Combine(c.Dir, "captions.csv");
            File.WriteAllText(path, File.ReadAllText(path).ReplaceLineEndings("\r\n"));
        }, AllCommands, _ => []),
        new("encoding", "wide-csv-bom-crlf", c => c.ReplaceMetadata("traits.csv", WideCsv(c).ReplaceLineEndings("\r\n"), new UTF8Encoding(true)),
            AllCommands, _ => []),
        new("encoding", "utf16-token-file", c => File.WriteAllText(c.TokenFile(2), File.ReadAllText(c.TokenFile(2)), Encoding.Unicode), None,
            c => [c.TokenFile(2)]),
        new("encoding", "invalid-utf8", c =>
        {
            var bytes = File.ReadAllBytes(c.TokenFile(2)).ToList();
            bytes.InsertRange(Encoding.UTF8.GetString([.. bytes]).IndexOf("\"value\": \"", StringComparison.Ordinal) + 10, [0xC3, 0x28]);
            File.WriteAllBytes(c.TokenFile(2), [.. bytes]);
        }, None, c => [c.TokenFile(2)]),
        new("encoding", "truncated-json", c => File.WriteAllText(c.TokenFile(4), File.ReadAllText(c.TokenFile(4))[..40]), None,
            c => [c.TokenFile(4), "invalid JSON"]),
        new("encoding", "token-file-not-an-object", c => File.WriteAllText(c.TokenFile(4), "[1, 2]"), None, c => [c.TokenFile(4)]),
    ];

    /// <summary>The case named <paramref name="name"/>.</summary>
    public static MalformedCollection Named(string name) => All.Single(c => c.Name == name);

    // The pristine collection as a wide CSV (token_id, one column per trait type), read back from its token files.
    private static string WideCsv(HostileCollection c)
    {
        var sb = new StringBuilder("token_id,Background,Body,Accessory,Head,Glasses\n");
        foreach (int id in c.Ids)
        {
            var attributes = JsonNode.Parse(File.ReadAllText(c.TokenFile(id)))!["attributes"]!.AsArray();
            sb.Append(id).Append(',').AppendJoin(',', attributes.Select(a => "\"" + (string)a!["value"]! + "\"")).Append('\n');
        }
        return sb.ToString();
    }
}
