using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Clip;

/// <summary>
/// Microsoft.ML.Tokenizers merges the lowest-ranked pair one occurrence at a time; CLIP's reference merges every occurrence
/// of it in one left-to-right pass. They agree for merge lists that BPE training produces, which is what CLIP ships. This
/// checks that on merges trained here, against a direct transcription of the reference's merge loop.
/// </summary>
public class ClipBpeEquivalenceTests
{
    [Fact]
    public void TrainedMergesGiveTheReferenceMergeLoopsPieces()
    {
        var rng = new Random(7);
        string Word() => new(Enumerable.Range(0, rng.Next(1, 9)).Select(_ => "aabbc"[rng.Next(5)]).ToArray());
        var corpus = Enumerable.Range(0, 300).Select(_ => Word()).ToList();
        var merges = Train(corpus, 25);

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in ClipByteAlphabet.Symbols)
        {
            vocab[s] = vocab.Count;
            vocab[s + "</w>"] = vocab.Count;
        }
        foreach (var (l, r) in merges) vocab.TryAdd(l + r, vocab.Count);
        vocab["<|startoftext|>"] = vocab.Count;
        vocab["<|endoftext|>"] = vocab.Count;
        var tok = ClipTokenizer.Create(vocab, merges);
        var names = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        var ranks = merges.Select((m, i) => (m, i)).ToDictionary(t => t.m, t => t.i);

        for (int n = 0; n < 300; n++)
        {
            string word = Word() + Word(); // longer than the training words too
            var expected = ReferenceBpe(word, ranks);
            var actual = tok.Tokenize(word).Select(id => names[id]).ToList();
            Assert.True(expected.SequenceEqual(actual), $"'{word}': reference [{string.Join(" ", expected)}], ours [{string.Join(" ", actual)}]");
        }
    }

    // The reference's loop: find the lowest-ranked adjacent pair, merge all its occurrences left to right, repeat.
    private static List<string> ReferenceBpe(string token, Dictionary<(string, string), int> ranks)
    {
        var word = token[..^1].Select(c => c.ToString()).Append(token[^1] + "</w>").ToList();
        while (word.Count > 1)
        {
            var best = Enumerable.Range(0, word.Count - 1).Select(i => (word[i], word[i + 1]))
                .Where(ranks.ContainsKey).OrderBy(p => ranks[p]).Cast<(string, string)?>().FirstOrDefault();
            if (best is not { } pair) break;
            var next = new List<string>();
            for (int i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                {
                    next.Add(pair.Item1 + pair.Item2);
                    i++;
                }
                else
                {
                    next.Add(word[i]);
                }
            }
            word = next;
        }
        return word;
    }

    // Plain BPE training: repeatedly merge the most frequent adjacent pair (ties broken by first appearance).
    private static List<(string, string)> Train(List<string> corpus, int count)
    {
        var words = corpus.Select(w => w[..^1].Select(c => c.ToString()).Append(w[^1] + "</w>").ToList()).ToList();
        var merges = new List<(string, string)>();
        for (int m = 0; m < count; m++)
        {
            var counts = new Dictionary<(string, string), int>();
            var order = new List<(string, string)>();
            foreach (var w in words)
                for (int i = 0; i < w.Count - 1; i++)
                {
                    var p = (w[i], w[i + 1]);
                    if (!counts.TryAdd(p, 1)) counts[p]++;
                    else order.Add(p);
                }
            if (counts.Count == 0) break;
            var best = order.OrderByDescending(p => counts[p]).First();
            merges.Add(best);
            for (int k = 0; k < words.Count; k++)
                words[k] = ReferenceBpeStep(words[k], best);
        }
        return merges;
    }

    private static List<string> ReferenceBpeStep(List<string> w, (string, string) pair)
    {
        var next = new List<string>();
        for (int i = 0; i < w.Count; i++)
        {
            if (i < w.Count - 1 && w[i] == pair.Item1 && w[i + 1] == pair.Item2)
            {
                next.Add(pair.Item1 + pair.Item2);
                i++;
            }
            else
            {
                next.Add(w[i]);
            }
        }
        return next;
    }
}
