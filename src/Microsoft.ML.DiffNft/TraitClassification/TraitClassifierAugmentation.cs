using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>
/// The random image work of trait classifier training: translations of real images and the outlier images of outlier
/// exposure. Every draw comes from an explicitly seeded CPU generator (<see cref="SeededRandom"/>), so a step-limited
/// run is reproducible on one machine and the same seed means the same draws on every device.
/// </summary>
internal static class TraitClassifierAugmentation
{
    /// <summary>
    /// Translates each image [N, 3, S, S] by an independent random offset in [−s, s]² with replicated edges; the batch
    /// keeps its size (each offset group is one crop of the padded batch).
    /// </summary>
    public static Tensor Shift(Tensor batch, int maxShift, Generator gen)
    {
        if (maxShift == 0) return batch.alias();
        using var scope = NewDisposeScope();
        long b = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        int side = 2 * maxShift + 1;
        var padded = nn.functional.pad(batch, new long[] { maxShift, maxShift, maxShift, maxShift }, PaddingModes.Replicate);
        var offsets = SeededRandom.Randint(side * side, new long[] { b }, gen, CPU).data<long>().ToArray();
        var result = empty_like(batch);
        for (int o = 0; o < side * side; o++)
        {
            var members = Enumerable.Range(0, (int)b).Where(i => offsets[i] == o).Select(i => (long)i).ToArray();
            if (members.Length == 0) continue;
            var index = tensor(members, device: batch.device);
            var crop = padded.index_select(0, index).narrow(2, o / side, h).narrow(3, o % side, w);
            result.index_copy_(0, index, crop);
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="count"/> outlier images made from a batch of real images [N, 3, S, S] in [−1, 1], a third of each
    /// kind: uniform pixel noise (no structure, no palette); real images with their pixel positions shuffled (the palette
    /// of a token, none of its shapes); 50/50 blends of two different real images (the shapes of two tokens at once,
    /// what a model that has not decided between two tokens draws). With one real image, only the first two kinds.
    /// </summary>
    public static Tensor Outliers(Tensor batch, int count, Generator gen)
    {
        using var scope = NewDisposeScope();
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        var device = batch.device;
        int kinds = n > 1 ? 3 : 2;
        int noise = (count + kinds - 1) / kinds, shuffled = (count - noise + kinds - 2) / (kinds - 1), blended = count - noise - shuffled;
        var parts = new List<Tensor> { SeededRandom.Rand(new long[] { noise, 3, h, w }, gen, device) * 2 - 1 };
        if (shuffled > 0)
        {
            var source = batch.index_select(0, SeededRandom.Randint(n, new long[] { shuffled }, gen, device)).reshape(shuffled, 3, h * w);
            // One random order of the pixel positions per image, the same for its three channels.
            var order = SeededRandom.Rand(new long[] { shuffled, 1, h * w }, gen, device).argsort(2).expand(shuffled, 3, h * w);
            parts.Add(source.gather(2, order).reshape(shuffled, 3, h, w));
        }
        if (blended > 0)
        {
            var a = SeededRandom.Randint(n, new long[] { blended }, gen, device);
            // A second image that is never the first: a in [0, n), a + 1 + r (mod n) with r in [0, n − 1).
            var c = (a + 1 + SeededRandom.Randint(n - 1, new long[] { blended }, gen, device)).remainder(n);
            parts.Add((batch.index_select(0, a) + batch.index_select(0, c)) * 0.5);
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
