using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffNft.Cli;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// A small Nouns collection (12 tokens, as <c>diffnft collection nouns --count 12 --seed 1</c> writes it: metadata/,
/// images/, captions.csv, _metadata.json), copied into a folder of its own for a test to damage, and the edits a hostile
/// user makes to one: trait values, token files, images, captions. The pristine copy is made once per test run.
/// </summary>
internal sealed class HostileCollection : IDisposable
{
    /// <summary>Tokens in the pristine collection.</summary>
    public const int TokenCount = 12;

    private static readonly Lazy<string> s_pristine = new(() =>
    {
        string dir = Path.Combine(Directory.CreateTempSubdirectory("diffnft-pristine-").FullName, "nouns");
        var (code, _, error) = Cli.Run(["collection", "nouns", "--count", TokenCount.ToString(), "--seed", "1", "--out", dir]);
        if (code != 0) throw new InvalidOperationException($"collection nouns failed: {error}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        return dir;
    });

    private readonly string _root = Directory.CreateTempSubdirectory("diffnft-hostile-collection-").FullName;

    /// <summary>A fresh copy of the pristine collection in a folder named <paramref name="name"/>.</summary>
    public HostileCollection(string name = "C")
    {
        Dir = Path.Combine(_root, name);
        Copy(s_pristine.Value, Dir);
        Output = Path.Combine(_root, "out");
        Directory.CreateDirectory(Output);
    }

    /// <summary>The collection folder.</summary>
    public string Dir { get; }

    /// <summary>A folder beside the collection for what commands write.</summary>
    public string Output { get; }

    /// <summary>The untouched collection (read-only: never edit it), for example as the generated images of evaluate.</summary>
    public static string Pristine => s_pristine.Value;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>The token file of <paramref name="id"/>.</summary>
    public string TokenFile(int id) => Path.Combine(Dir, "metadata", $"{id}.json");

    /// <summary>The image of <paramref name="id"/>.</summary>
    public string Image(int id) => Path.Combine(Dir, "images", $"{id}.png");

    /// <summary>The ids of the token files, in numeric order.</summary>
    public IReadOnlyList<int> Ids => Directory.EnumerateFiles(Path.Combine(Dir, "metadata"), "*.json")
        .Select(f => int.Parse(Path.GetFileNameWithoutExtension(f))).Order().ToList();

    /// <summary>
    /// Removes captions.csv and _metadata.json, which the collection writer derives from the token files: after an edit
    /// they would disagree with them (captions are then built from the edited traits).
    /// </summary>
    public HostileCollection WithoutDerivedFiles()
    {
        File.Delete(Path.Combine(Dir, "captions.csv"));
        File.Delete(Path.Combine(Dir, "_metadata.json"));
        return this;
    }

    /// <summary>Rewrites the token file of <paramref name="id"/> through <paramref name="edit"/> (UTF-8, characters unescaped).</summary>
    public void EditToken(int id, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(TokenFile(id)))!.AsObject();
        edit(json);
        File.WriteAllText(TokenFile(id), json.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }));
    }

    /// <summary>Rewrites every token file through <paramref name="edit"/> (given the token's id).</summary>
    public void EditTokens(Action<int, JsonObject> edit)
    {
        foreach (int id in Ids) EditToken(id, json => edit(id, json));
    }

    /// <summary>Sets the value of the trait at <paramref name="index"/> (0 Background … 4 Glasses) of token <paramref name="id"/>.</summary>
    public void SetValue(int id, int index, string value) => EditToken(id, json => json["attributes"]![index]!["value"] = value);

    /// <summary>Sets the trait type at <paramref name="index"/> of every token.</summary>
    public void SetTraitType(int index, string traitType) => EditTokens((_, json) => json["attributes"]![index]!["trait_type"] = traitType);

    /// <summary>Keeps only the tokens <paramref name="ids"/> (their files and images), dropping the derived files.</summary>
    public void KeepTokens(params int[] ids)
    {
        WithoutDerivedFiles();
        foreach (int id in Ids.Except(ids))
        {
            File.Delete(TokenFile(id));
            File.Delete(Image(id));
        }
    }

    /// <summary>Replaces the per-token files by one metadata file <paramref name="fileName"/> holding <paramref name="text"/>.</summary>
    public void ReplaceMetadata(string fileName, string text, Encoding? encoding = null)
    {
        WithoutDerivedFiles();
        Directory.Delete(Path.Combine(Dir, "metadata"), recursive: true);
        File.WriteAllText(Path.Combine(Dir, fileName), text, encoding ?? new UTF8Encoding(false));
    }

    /// <summary>Writes a valid PNG of one opaque colour.</summary>
    public static void WritePng(string path, int width, int height)
    {
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < pixels.Length; i += 4) (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (0x80, 0x40, 0x20, 0xFF);
        PngCodec.Save(new RgbaImage(width, height, pixels), path);
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from)) Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}

/// <summary>Runs the <c>diffnft</c> command line in-process.</summary>
internal static class Cli
{
    /// <summary>Runs <paramref name="args"/>; returns the exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Error) Run(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
