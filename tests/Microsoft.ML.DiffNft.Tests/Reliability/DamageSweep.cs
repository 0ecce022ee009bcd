using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>What a damage sweep saw: how many damaged copies were refused, how many loaded exactly the original, and every other outcome.</summary>
/// <param name="Refused">Copies refused with an <see cref="InvalidDataException"/> that names the file on one line.</param>
/// <param name="Identical">Copies that loaded into exactly the original's weights (the damage hit bytes nothing reads).</param>
/// <param name="Problems">Everything else: other exceptions, errors that do not name the file, silently different weights.</param>
public sealed record DamageOutcome(int Refused, int Identical, IReadOnlyList<string> Problems)
{
    public int Cases => Refused + Identical + Problems.Count;
}

/// <summary>
/// Damages a model file at deterministic places — one flipped byte, or a cut — and loads every copy with the package's
/// loader. The places are spread over the whole file, plus a dense share in the first zip header and in the central
/// directory at the end, where single bytes decide how everything else is read.
/// </summary>
internal static class DamageSweep
{
    /// <summary>The bytes at the end of a small model file that hold the central directory and its end record.</summary>
    private const int TailBytes = 320;

    /// <summary>
    /// Flips one byte at each of <paramref name="flips"/> places and cuts the file at <paramref name="cuts"/> lengths,
    /// loading each copy with <paramref name="kind"/>'s loader.
    /// </summary>
    public static DamageOutcome Run(ModelFileKind kind, string original, int flips, int cuts)
    {
        byte[] bytes = File.ReadAllBytes(original);
        byte[] expected = kind.Load(original);
        string dir = Path.GetDirectoryName(original)!;
        int refused = 0, identical = 0, n = 0;
        var problems = new List<string>();
        foreach (var (what, damaged) in FlippedCopies(bytes, flips).Concat(CutCopies(bytes, cuts)))
        {
            string path = Path.Combine(dir, $"damaged-{n++}{kind.Extension}");
            File.WriteAllBytes(path, damaged);
            try
            {
                if (kind.Load(path).AsSpan().SequenceEqual(expected)) identical++;
                else problems.Add($"{what}: loaded, with weights that differ from the original's");
            }
            catch (InvalidDataException ex) when (ex.Message.Contains(path, StringComparison.Ordinal) && !ex.Message.Contains('\n'))
            {
                refused++;
            }
            catch (Exception ex)
            {
                problems.Add($"{what}: {ex.GetType().Name}: {ex.Message}");
            }
            File.Delete(path);
        }
        return new DamageOutcome(refused, identical, problems);
    }

    /// <summary>Asserts that the sweep found no problem, listing the first few when it did.</summary>
    public static void AssertClean(ModelFileKind kind, DamageOutcome outcome) =>
        Assert.True(outcome.Problems.Count == 0,
            $"{kind.Name}: {outcome.Problems.Count} of {outcome.Cases} damaged copies were neither refused with an error naming the file " +
            $"nor loaded exactly:\n{string.Join("\n", outcome.Problems.Take(10))}");

    /// <summary>Copies with one byte flipped: 5/8 of them spread evenly, 1/8 in the first 64 bytes, 1/4 in the last <see cref="TailBytes"/>.</summary>
    public static IEnumerable<(string What, byte[] Bytes)> FlippedCopies(byte[] bytes, int count)
    {
        foreach (var (i, position) in Places(bytes.Length, count).Select((p, i) => (i, p)))
        {
            var copy = (byte[])bytes.Clone();
            copy[position] ^= (byte)(1 << (i % 8));
            yield return ($"byte {position} of {bytes.Length} flipped", copy);
        }
    }

    /// <summary>Copies cut short: 3/4 of the lengths spread evenly from 0, 1/4 in the last <see cref="TailBytes"/>.</summary>
    public static IEnumerable<(string What, byte[] Bytes)> CutCopies(byte[] bytes, int count)
    {
        int tail = count / 4, spread = count - tail;
        var lengths = Enumerable.Range(0, spread).Select(i => (int)((long)i * bytes.Length / spread))
            .Concat(Enumerable.Range(0, tail).Select(i => bytes.Length - 1 - (int)((long)i * Math.Min(TailBytes, bytes.Length - 1) / tail)))
            .Distinct();
        foreach (int length in lengths)
            yield return ($"cut to {length} of {bytes.Length} bytes", bytes[..length]);
    }

    private static IEnumerable<int> Places(int length, int count)
    {
        int head = count / 8, tail = count / 4, spread = count - head - tail;
        return Enumerable.Range(0, spread).Select(i => (int)((long)i * (length - 1) / Math.Max(1, spread - 1)))
            .Concat(Enumerable.Range(0, head).Select(i => i * Math.Min(64, length) / head))
            .Concat(Enumerable.Range(0, tail).Select(i => length - 1 - i * Math.Min(TailBytes, length) / tail))
            .Distinct();
    }
}
