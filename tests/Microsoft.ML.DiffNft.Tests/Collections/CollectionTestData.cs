using System.Text.Json.Nodes;
using Microsoft.ML.DiffNft.Collections;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>Paths to test data, shared loaded collections and comparison helpers for the collection tests.</summary>
internal static class CollectionTestData
{
    public static string DataDir(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public static string CryptoadzDir => DataDir("cryptoadz");

    public static string CryptoadzJsonl => Path.Combine(CryptoadzDir, "metadata.jsonl");

    /// <summary>metadata.jsonl plus the atlas, loaded once for all tests (the tests only read it).</summary>
    public static NftCollection Cryptoadz => s_cryptoadz.Value;

    private static readonly Lazy<NftCollection> s_cryptoadz = new(() => NftCollectionLoader.Load(CryptoadzDir));

    /// <summary>
    /// Finds shared/data/&lt;name&gt; (non-shippable data sets live there, not in the repository) by walking up from the
    /// test binaries; null when absent.
    /// </summary>
    public static string? FindSharedData(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", name);
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Asserts that two collections hold the same tokens in the same order, attribute for attribute.</summary>
    public static void AssertSameTokens(NftCollection expected, NftCollection actual, bool compareImages = false)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected.Tokens[i];
            var a = actual.Tokens[i];
            Assert.Equal(e.TokenId, a.TokenId);
            Assert.Equal(e.Attributes, a.Attributes); // records: trait type, value, kind, display type, max value
            if (compareImages)
            {
                Assert.Equal(e.Image is null, a.Image is null);
                if (e.Image is not null) Assert.True(e.Image.PixelEquals(a.Image!), $"Token {e.TokenId}: images differ.");
            }
        }
    }

    /// <summary>Asserts equal names, descriptions and extra fields.</summary>
    public static void AssertSameMetadata(NftToken expected, NftToken actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Description, actual.Description);
        Assert.True(JsonNode.DeepEquals(expected.Extra, actual.Extra),
            $"Token {expected.TokenId}: extra fields differ: {expected.Extra?.ToJsonString()} vs {actual.Extra?.ToJsonString()}");
    }
}

/// <summary>A temporary folder deleted when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "diffnft-collections-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name, string content)
    {
        string p = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, content);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
