using Xunit;
using System.Text.Json;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Xunit.Abstractions;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Parity;

/// <summary>Our CLIP tokenizer against the reference CLIPTokenizer's ids on the golden prompts.</summary>
public class ClipTokenizerParityTests(ITestOutputHelper output)
{
    [Fact]
    public void IdsEqualTheReferenceTokenizers()
    {
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(ReferenceGoldens.TinyFolder, "tokenizer"));
        using var doc = JsonDocument.Parse(File.ReadAllText(ReferenceGoldens.Golden("tokenizer.json")));
        int total = 0, equal = 0;
        var differing = new List<string>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var actual = tokenizer.Encode(text);
            total++;
            if (expected.SequenceEqual(actual)) equal++;
            else differing.Add(text);
        }
        foreach (var d in differing) output.WriteLine("differs: " + JsonSerializer.Serialize(d));
        output.WriteLine($"{equal} of {total} equal");
        // The reference ran with ftfy, which also unescapes HTML entities, uncurls quotes, undoes ligatures, full-width
        // letters and mojibake, and does not space CJK ideographs; we do none of that (docs/stable-diffusion.md). Every
        // prompt of printable ASCII without an entity must agree, and at least 200 of the 214 overall.
        Assert.True(equal >= 200, $"only {equal} of {total} prompts tokenize as the reference does");
        Assert.All(differing, d => Assert.True(d.Any(ch => ch > '~' || ch < ' ') || d.Contains('&'), $"ASCII prompt differs: {d}"));
    }
}
