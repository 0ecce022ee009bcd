using Microsoft.ML.DiffNft.Collections;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>Bad input fails with an <see cref="InvalidDataException"/> that names the file, the line or token, and the field.</summary>
public class MalformedInputTests
{
    private static InvalidDataException LoadFails(string path, NftCollectionLoadOptions? options = null) =>
        Assert.Throws<InvalidDataException>(() => NftCollectionLoader.Load(path, options));

    [Fact]
    public void JsonLinesWithABrokenLineThreeNamesFileAndLine()
    {
        using var tmp = new TempDir();
        string path = tmp.File("broken.jsonl",
            "{\"token_id\":1,\"metadata\":{\"attributes\":[{\"trait_type\":\"A\",\"value\":\"x\"}]}}\n" +
            "{\"token_id\":2,\"metadata\":{\"attributes\":[]}}\n" +
            "{\"token_id\":3,\"metadata\":{\"attributes\":[{\"trait_type\":\"A\" \"value\":\"y\"}]}}\n");
        var e = LoadFails(path);
        Assert.Contains("broken.jsonl", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("invalid JSON at column 59", e.Message); // the '"' of "value", where a ',' was due
        Assert.DoesNotContain("LineNumber", e.Message); // the parser's 0-based position is replaced by ours
    }

    [Fact]
    public void JsonArraySyntaxErrorReportsOneBasedLine()
    {
        using var tmp = new TempDir();
        string path = tmp.File("_metadata.json", "[\n  {\"id\": 1, \"attributes\": []},\n  {\"id\": 2, \"attributes\": [}\n]\n");
        var e = LoadFails(path);
        Assert.Contains("_metadata.json', line 3", e.Message);
        Assert.Contains("token #1", e.Message);
    }

    [Fact]
    public void CsvWithAWrongColumnCountNamesTheLine()
    {
        using var tmp = new TempDir();
        string path = tmp.File("attributes.csv", "token_id,trait_type,value,value_type\n1,Head,Cap,str\n1,Body,Blue,Green,str\n");
        var e = LoadFails(path);
        Assert.Contains("attributes.csv', line 3", e.Message);
        Assert.Contains("expected 4 fields as in the header, found 5", e.Message);

        string wide = tmp.File("wide.csv", "token_id,Head,Body\n1,Cap,Blue\n2,Hat\n");
        e = LoadFails(wide);
        Assert.Contains("wide.csv', line 3", e.Message);
        Assert.Contains("expected 3 fields as in the header, found 2", e.Message);
    }

    [Fact]
    public void TraitTypeThatIsANumberNamesTokenAndField()
    {
        using var tmp = new TempDir();
        string path = tmp.File("collection.json",
            "[\n{\"token_id\": 7, \"attributes\": [{\"trait_type\": \"Head\", \"value\": \"Cap\"}]},\n" +
            "{\"token_id\": 8, \"attributes\": [{\"trait_type\": \"Head\", \"value\": \"Cap\"}, {\"trait_type\": 5, \"value\": \"x\"}]}\n]");
        var e = LoadFails(path);
        Assert.Contains("collection.json', line 3 (token #1, token id 8)", e.Message);
        Assert.Contains("field 'attributes[1].trait_type': expected a string, found a number (5)", e.Message);
    }

    [Fact]
    public void MissingTokenIdIsAnError()
    {
        using var tmp = new TempDir();
        string path = tmp.File("collection.json",
            "[{\"name\": \"Thing #1\", \"attributes\": []},\n {\"name\": \"Thing\", \"attributes\": []}]");
        var e = LoadFails(path);
        Assert.Contains("line 2 (token #1)", e.Message);
        Assert.Contains("no token id", e.Message);
        Assert.Contains("'Thing'", e.Message);

        string csv = tmp.File("attributes.csv", "token_id,trait_type,value\n1,Head,Cap\n,Head,Hat\n");
        e = LoadFails(csv);
        Assert.Contains("attributes.csv', line 3", e.Message);
        Assert.Contains("field 'token_id': expected a non-negative integer token id, found ''", e.Message);

        string jsonl = tmp.File("m.jsonl", "{\"token_id\": \"abc\", \"attributes\": []}\n");
        e = LoadFails(jsonl);
        Assert.Contains("m.jsonl', line 1", e.Message);
        Assert.Contains("field 'token_id'", e.Message);
    }

    [Fact]
    public void DuplicateTokenIdsNameBothPlaces()
    {
        using var tmp = new TempDir();
        string jsonl = tmp.File("m.jsonl", "{\"token_id\":1,\"attributes\":[]}\n{\"token_id\":2,\"attributes\":[]}\n{\"token_id\":\"01\",\"attributes\":[]}\n");
        var e = LoadFails(jsonl);
        Assert.Contains("Token id 1 appears twice", e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("line 3", e.Message);

        string wide = tmp.File("w.csv", "token_id,A\n5,x\n6,y\n5,z\n");
        e = LoadFails(wide);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("line 4", e.Message);

        // The same trait twice in one token (long CSV) names both lines too.
        string longCsv = tmp.File("l.csv", "token_id,trait_type,value\n5,A,x\n6,A,y\n5,A,z\n");
        e = LoadFails(longCsv);
        Assert.Contains("l.csv', line 4", e.Message);
        Assert.Contains("already appeared on line 2", e.Message);
    }

    [Fact]
    public void BadValuesNameTheFieldAndWhatWasExpected()
    {
        using var tmp = new TempDir();
        var e = LoadFails(tmp.File("a.json", "[{\"id\": 1, \"attributes\": [{\"trait_type\": \"A\", \"value\": {\"x\": 1}}]}]"));
        Assert.Contains("field 'attributes[0].value': expected a string, number or boolean, found an object", e.Message);

        e = LoadFails(tmp.File("b.json", "[{\"id\": 1, \"attributes\": [{\"trait_type\": \"A\"}]}]"));
        Assert.Contains("field 'attributes[0].value'", e.Message);

        e = LoadFails(tmp.File("c.json", "[{\"id\": 1, \"attributes\": [{\"trait_type\": \"A\", \"value\": 1}, {\"trait_type\": \"A\", \"value\": 2}]}]"));
        Assert.Contains("'A' already appeared in 'attributes[0]'", e.Message);

        e = LoadFails(tmp.File("d.json", "[{\"id\": 1.5, \"attributes\": []}]"));
        Assert.Contains("field 'id': expected a non-negative integer token id, found a number (1.5)", e.Message);

        e = LoadFails(tmp.File("e.json", "[{\"id\": 1, \"attributes\": \"Blue\"}]"));
        Assert.Contains("field 'attributes'", e.Message);

        e = LoadFails(tmp.File("f.csv", "token_id,trait_type,value,value_type\n1,Count,many,int\n"));
        Assert.Contains("f.csv', line 2 (token id 1): field 'value': expected a number (value_type says so), found 'many'", e.Message);

        e = LoadFails(tmp.File("g.csv", "token_id,trait_type,value,value_type\n1,Count,3,integr\n"));
        Assert.Contains("field 'value_type': expected one of str, int, float, number, bool", e.Message);

        e = LoadFails(tmp.File("h.csv", "token_id,Head\n1,\"Cap\n2,Hat\n"));
        Assert.Contains("h.csv', line 2", e.Message);
        Assert.Contains("never closed", e.Message);

        e = LoadFails(tmp.File("i.csv", "token_id,Head\n1,\"Cap\"x\n"));
        Assert.Contains("i.csv', line 2", e.Message);
        Assert.Contains("after its closing quote", e.Message);

        e = LoadFails(tmp.File("j.json", "{\"not\": \"a collection\""));
        Assert.Contains("j.json', line 1", e.Message);
    }

    [Fact]
    public void AmbiguousOrEmptyFoldersAndMissingPathsAreClear()
    {
        using var tmp = new TempDir();
        var e = LoadFails(tmp.Path);
        Assert.Contains("found none", e.Message);
        tmp.File("a.csv", "token_id,A\n1,x\n");
        tmp.File("b.csv", "token_id,A\n1,x\n");
        e = LoadFails(tmp.Path);
        Assert.Contains("a.csv, b.csv", e.Message);
        Assert.Throws<FileNotFoundException>(() => NftCollectionLoader.Load(Path.Combine(tmp.Path, "nope.json")));
        Assert.Throws<DirectoryNotFoundException>(() =>
            NftCollectionLoader.Load(Path.Combine(tmp.Path, "a.csv"), new NftCollectionLoadOptions { ImagesPath = Path.Combine(tmp.Path, "no-images") }));
        tmp.File("imgs/readme.txt", "no images here");
        e = LoadFails(Path.Combine(tmp.Path, "a.csv"), new NftCollectionLoadOptions { ImagesPath = Path.Combine(tmp.Path, "imgs") });
        Assert.Contains("No image in", e.Message);
    }
}
