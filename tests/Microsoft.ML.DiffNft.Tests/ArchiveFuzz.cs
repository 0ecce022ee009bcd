using Xunit;

namespace Microsoft.ML.DiffNft.Tests;

/// <summary>Damages a saved model file many ways and checks that loading either works or names the file in a clear error.</summary>
internal static class ArchiveFuzz
{
    /// <summary>
    /// Writes <paramref name="trials"/> damaged copies of <paramref name="path"/> (alternately truncated, and with 8
    /// random bytes flipped) and loads each with <paramref name="load"/>: every failure must be an
    /// <see cref="InvalidDataException"/> whose message names the damaged file. A flip inside compressed weights that
    /// still decodes to valid floats is legitimately loadable.
    /// </summary>
    public static void EveryDamagedCopyLoadsOrNamesTheFile(string path, int seed, Func<string, IDisposable> load, int trials = 40)
    {
        var bytes = File.ReadAllBytes(path);
        var rng = new Random(seed);
        string dir = Path.GetDirectoryName(path)!, ext = Path.GetExtension(path);
        for (int trial = 0; trial < trials; trial++)
        {
            var bad = (byte[])bytes.Clone();
            if (trial % 2 == 0)
                Array.Resize(ref bad, rng.Next(0, bytes.Length - 1));
            else
                for (int k = 0; k < 8; k++) bad[rng.Next(bad.Length)] ^= (byte)(1 + rng.Next(255));
            var badPath = Path.Combine(dir, $"bad{trial}{ext}");
            File.WriteAllBytes(badPath, bad);
            try
            {
                load(badPath).Dispose();
            }
            catch (InvalidDataException ex)
            {
                Assert.Contains(badPath, ex.Message);
            }
        }
    }
}
