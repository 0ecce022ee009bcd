using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Recovers a Noun's parts from its 32×32 image by matching each layer's known parts, top layer first
/// (glasses, head, accessory, body, then background), over the pixels the layers above have not explained yet.
/// This is the independent judge of generated images: decoded traits can be scored against a reference collection's
/// rarity table, and the per-layer distance says whether the image is a clean Noun at all.
/// </summary>
/// <remarks>
/// <para>
/// A pixel matches a part when no colour channel differs by more than <see cref="NounsDecoderOptions.Tolerance"/>.
/// The decoder looks for the seed whose rendering mismatches the fewest pixels, breaking ties by the smallest summed
/// colour difference. A purely greedy layer-by-layer choice is not enough: many accessories are partly drawn in body
/// colours, so on a red body a large red-striped accessory "matches" more pixels than the small accessory actually
/// drawn; only the layers below reveal the mistake. The search is therefore a depth-first branch and bound over the
/// layers, top first: at each layer the candidates are tried in order of fewest new mismatches (then most pixels
/// explained, then fewest pixels, then index), and a branch is cut as soon as its mismatches plus the pixels that no
/// remaining part can match exceed the best complete decoding found. On a rendered Noun the first path is almost
/// always right and the rest is pruned at once.
/// </para>
/// <para>
/// Mismatch masks are computed 8 pixels at a time with 256-bit vectors and kept as 1,024-bit masks, so a candidate's
/// count over the still-unexplained pixels is a handful of popcounts. Alpha is ignored: images are treated as opaque.
/// </para>
/// <para>
/// Some images are genuinely ambiguous — a body completely covered by a full-body accessory, an accessory hidden by a
/// head. The decoder then reports the first candidate in the order above (the empty accessory, else the lowest index)
/// and flags the layer with <see cref="NounsDecodedTraits.IsAmbiguous"/>; rendering the decoded seed reproduces the image.
/// </para>
/// </remarks>
internal sealed class NounsTraitDecoder
{
    private const int Words = NounsArt.PixelCount / 64;
    private const int Blocks = NounsArt.PixelCount / 8;
    private const int LinearPicks = 4;
    private static readonly NounsLayer[] s_topDown =
        [NounsLayer.Glasses, NounsLayer.Head, NounsLayer.Accessory, NounsLayer.Body, NounsLayer.Background];

    // For each 8-bit set of pixels of a block, a byte mask keeping those pixels' R, G, B bytes (alpha always dropped).
    private static readonly Vector256<byte>[] s_pixelMasks = BuildPixelMasks();

    private readonly NounsPart[][] _candidates; // per depth (top-down), the first k parts of the layer
    private readonly int[] _offset;             // per depth, index of its first candidate in the flat candidate list
    private readonly int _total;
    private readonly int[] _wordLo, _wordHi;    // per candidate, the range of coverage words that are non-zero
    private readonly int _tolerance;
    private readonly double _threshold;
    private readonly int _maxNodes;

    /// <summary>Creates a decoder.</summary>
    /// <param name="art">The part library; the built-in Nouns art when null.</param>
    /// <param name="options">Matching options; defaults when null. Read once: later changes have no effect.</param>
    public NounsTraitDecoder(NounsArt? art = null, NounsDecoderOptions? options = null)
    {
        Art = art ?? NounsArt.Default;
        options ??= new NounsDecoderOptions();
        options.Validate();
        _tolerance = options.Tolerance;
        _threshold = options.DistanceThreshold;
        _maxNodes = options.MaxSearchNodes;
        var counts = (options.Candidates ?? NounsSubset.All).Resolve(Art);

        _candidates = new NounsPart[s_topDown.Length][];
        _offset = new int[s_topDown.Length];
        for (int d = 0; d < s_topDown.Length; d++)
        {
            _offset[d] = _total;
            _candidates[d] = Art.Parts(s_topDown[d]).Take(counts[(int)s_topDown[d]]).ToArray();
            _total += _candidates[d].Length;
        }
        _wordLo = new int[_total];
        _wordHi = new int[_total];
        for (int d = 0; d < s_topDown.Length; d++)
        {
            for (int i = 0; i < _candidates[d].Length; i++)
            {
                var cov = _candidates[d][i].Coverage;
                int lo = 0, hi = -1;
                while (lo < Words && cov[lo] == 0) lo++;
                for (int w = Words - 1; w >= lo; w--) if (cov[w] != 0) { hi = w; break; }
                _wordLo[_offset[d] + i] = lo;
                _wordHi[_offset[d] + i] = hi;
            }
        }
    }

    /// <summary>The part library the decoder matches against.</summary>
    public NounsArt Art { get; }

    /// <summary>The distance threshold that defines <see cref="NounsDecodedTraits.IsDecodable"/>.</summary>
    public double DistanceThreshold => _threshold;

    /// <summary>Decodes one 32×32 image. Throws <see cref="ArgumentException"/> for any other size.</summary>
    public NounsDecodedTraits Decode(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Session(this).Decode(image);
    }

    /// <summary>Decodes many images in parallel; results are in input order.</summary>
    public IReadOnlyList<NounsDecodedTraits> DecodeMany(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (int i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentException($"Image {i} is null.", nameof(images));
        var results = new NounsDecodedTraits[images.Count];
        // One scratch session per worker thread; sessions are small (≈ 60 KB) and reused across images.
        using var sessions = new ThreadLocal<Session>(() => new Session(this));
        ParallelLoop.For(images.Count, i => results[i] = sessions.Value!.Decode(images[i]), cancellationToken);
        return results;
    }

    /// <summary>The scratch state of one decoding; reused across images by one thread.</summary>
    private sealed class Session
    {
        private readonly NounsTraitDecoder _d;
        private readonly Vector256<byte>[] _image = new Vector256<byte>[Blocks];
        private readonly ulong[] _mismatch;                                  // per candidate, mismatching opaque pixels
        private readonly ulong[] _hopeless = new ulong[(s_topDown.Length + 1) * Words]; // per depth, pixels no remaining part can match
        private readonly ulong[] _covered = new ulong[(s_topDown.Length + 1) * Words]; // per depth, pixels the chosen parts above cover
        private readonly int[][] _inc, _vis;
        private readonly long[][] _keys;
        private readonly int[] _chosen = new int[s_topDown.Length];
        private readonly int[] _best = new int[s_topDown.Length];
        private readonly bool[] _ambiguous = new bool[s_topDown.Length];
        private int _bestErr;
        private long _bestSad;
        private bool _haveBest;
        private int _nodes;
        private bool _stopped;

        public Session(NounsTraitDecoder decoder)
        {
            _d = decoder;
            _mismatch = new ulong[decoder._total * Words];
            _inc = new int[s_topDown.Length][];
            _vis = new int[s_topDown.Length][];
            _keys = new long[s_topDown.Length][];
            for (int d = 0; d < s_topDown.Length; d++)
            {
                int n = decoder._candidates[d].Length;
                _inc[d] = new int[n];
                _vis[d] = new int[n];
                _keys[d] = new long[n];
            }
        }

        public NounsDecodedTraits Decode(RgbaImage image)
        {
            if (image.Width != NounsArt.GridSize || image.Height != NounsArt.GridSize)
                throw new ArgumentException(
                    $"The Nouns trait decoder needs a {NounsArt.GridSize}×{NounsArt.GridSize} image; got {image.Width}×{image.Height}.", nameof(image));
            Load(image.Pixels);
            ComputeMasks();

            _bestErr = int.MaxValue;
            _bestSad = long.MaxValue;
            _haveBest = false;
            _nodes = 0;
            _stopped = false;
            Array.Clear(_ambiguous);
            Array.Clear(_covered, 0, Words);
            Expand(0, 0, 0);

            return Summarise();
        }

        private void Load(byte[] rgba)
        {
            var alphaOff = Vector256.Create(0x00FFFFFFu).AsByte();
            for (int b = 0; b < Blocks; b++)
                _image[b] = Vector256.Create(rgba, b * 32) & alphaOff;
        }

        private void ComputeMasks()
        {
            var tol = Vector256.Create((byte)_d._tolerance);
            for (int d = 0; d < s_topDown.Length; d++)
            {
                var parts = _d._candidates[d];
                for (int i = 0; i < parts.Length; i++)
                {
                    var part = parts[i];
                    var w = _mismatch.AsSpan((_d._offset[d] + i) * Words, Words);
                    w.Clear();
                    var index = part.BlockIndex;
                    var colours = part.BlockRgba;
                    var opaque = part.BlockOpaque;
                    for (int k = 0; k < index.Length; k++)
                    {
                        int b = index[k];
                        var a = _image[b];
                        var c = colours[k];
                        var diff = Vector256.Max(a, c) - Vector256.Min(a, c);
                        var over = Vector256.GreaterThan(diff, tol).AsUInt32();
                        uint pixels = (~Vector256.Equals(over, Vector256<uint>.Zero)).ExtractMostSignificantBits() & opaque[k];
                        w[b >> 3] |= (ulong)pixels << ((b & 7) * 8);
                    }
                }
            }

            // hopeless[d]: pixels that every candidate of depth ≥ d either leaves uncovered or mismatches. Whatever is
            // chosen below, the part that ends up showing such a pixel mismatches it: a lower bound for pruning.
            Array.Clear(_hopeless, s_topDown.Length * Words, Words);
            for (int d = s_topDown.Length - 1; d >= 0; d--)
            {
                var h = _hopeless.AsSpan(d * Words, Words);
                h.Fill(ulong.MaxValue);
                var parts = _d._candidates[d];
                for (int i = 0; i < parts.Length; i++)
                {
                    var cov = parts[i].Coverage;
                    var mis = _mismatch.AsSpan((_d._offset[d] + i) * Words, Words);
                    for (int w = 0; w < Words; w++) h[w] &= mis[w] | ~cov[w];
                }
                if (d < s_topDown.Length - 1)
                {
                    // Below the background nothing remains, so only depths above it combine with the next depth.
                    var below = _hopeless.AsSpan((d + 1) * Words, Words);
                    for (int w = 0; w < Words; w++) h[w] &= below[w];
                }
            }
        }

        private void Expand(int depth, int err, long sad)
        {
            if (depth == s_topDown.Length)
            {
                Leaf(err, sad);
                return;
            }
            var parts = _d._candidates[depth];
            int n = parts.Length, baseIndex = _d._offset[depth];
            var cov = _covered.AsSpan(depth * Words, Words);
            var inc = _inc[depth];
            var vis = _vis[depth];
            var keys = _keys[depth];
            for (int i = 0; i < n; i++)
            {
                int g = baseIndex + i;
                var c = parts[i].Coverage;
                int m = 0, v = 0;
                int mOff = g * Words;
                for (int w = _d._wordLo[g]; w <= _d._wordHi[g]; w++)
                {
                    ulong free = ~cov[w];
                    m += BitOperations.PopCount(_mismatch[mOff + w] & free);
                    v += BitOperations.PopCount(c[w] & free);
                }
                inc[i] = m;
                vis[i] = v;
                // Fewest new mismatches, then most pixels explained, then fewest pixels, then lowest index.
                keys[i] = ((long)m << 44) | ((long)(NounsArt.PixelCount - v) << 32) | ((long)parts[i].OpaqueCount << 16) | (uint)i;
            }

            var next = _covered.AsSpan((depth + 1) * Words, Words);
            var hopeless = _hopeless.AsSpan((depth + 1) * Words, Words);
            for (int k = 0; k < n; k++)
            {
                // Usually only the first one or two candidates survive the bound, so pick the next smallest key by a
                // linear scan; sort the rest only when the search keeps going (hard or non-Noun images).
                if (k < LinearPicks)
                {
                    int min = k;
                    for (int j = k + 1; j < n; j++) if (keys[j] < keys[min]) min = j;
                    (keys[k], keys[min]) = (keys[min], keys[k]);
                }
                else if (k == LinearPicks)
                {
                    Array.Sort(keys, k, n - k);
                }
                int i = (int)(keys[k] & 0xFFFF);
                int e = err + inc[i];
                if (e > _bestErr) break; // sorted by new mismatches: every later candidate is worse
                if (_haveBest && _nodes >= _d._maxNodes)
                {
                    _stopped = true;
                    return;
                }

                var c = parts[i].Coverage;
                int bound = e;
                for (int w = 0; w < Words; w++)
                {
                    next[w] = cov[w] | c[w];
                    bound += BitOperations.PopCount(hopeless[w] & ~next[w]);
                }
                if (bound > _bestErr) continue;
                long s = sad + VisibleSad(parts[i], cov);
                if (bound == _bestErr && s > _bestSad) continue;

                _chosen[depth] = i;
                _nodes++;
                Expand(depth + 1, e, s);
            }
        }

        private void Leaf(int err, long sad)
        {
            if (!_haveBest || err < _bestErr || (err == _bestErr && sad < _bestSad))
            {
                _haveBest = true;
                _bestErr = err;
                _bestSad = sad;
                Array.Copy(_chosen, _best, _best.Length);
                Array.Clear(_ambiguous);
            }
            else if (err == _bestErr && sad == _bestSad)
            {
                for (int d = 0; d < _best.Length; d++)
                    if (_chosen[d] != _best[d]) _ambiguous[d] = true;
            }
        }

        /// <summary>Summed |Δ| over R, G, B of the part's pixels that <paramref name="covered"/> leaves visible.</summary>
        private long VisibleSad(NounsPart part, ReadOnlySpan<ulong> covered)
        {
            var index = part.BlockIndex;
            var colours = part.BlockRgba;
            var opaque = part.BlockOpaque;
            var total = Vector256<ulong>.Zero;
            for (int k = 0; k < index.Length; k++)
            {
                int b = index[k];
                int bits = opaque[k] & ~(int)(covered[b >> 3] >> ((b & 7) * 8)) & 0xFF;
                if (bits == 0) continue;
                var mask = s_pixelMasks[bits];
                var a = _image[b] & mask;
                var c = colours[k] & mask;
                if (Avx2.IsSupported)
                {
                    total += Avx2.SumAbsoluteDifferences(a, c).AsUInt64();
                }
                else
                {
                    var diff = Vector256.Max(a, c) - Vector256.Min(a, c);
                    var (lo, hi) = Vector256.Widen(diff);
                    var (l0, l1) = Vector256.Widen(lo + hi);
                    var (q0, q1) = Vector256.Widen(l0 + l1);
                    total += q0 + q1;
                }
            }
            return (long)Vector256.Sum(total);
        }

        private NounsDecodedTraits Summarise()
        {
            Span<int> indices = stackalloc int[NounsLayers.Count];
            var distances = new double[NounsLayers.Count];
            var visible = new int[NounsLayers.Count];
            var ambiguous = new bool[NounsLayers.Count];
            Span<ulong> covered = stackalloc ulong[Words];
            covered.Clear();
            for (int d = 0; d < s_topDown.Length; d++)
            {
                var layer = (int)s_topDown[d];
                var part = _d._candidates[d][_best[d]];
                int v = 0;
                foreach (int p in part.OpaquePixels)
                    if ((covered[p >> 6] & (1UL << (p & 63))) == 0) v++;
                long sad = VisibleSad(part, covered);
                for (int w = 0; w < Words; w++) covered[w] |= part.Coverage[w];
                indices[layer] = part.Index;
                visible[layer] = v;
                distances[layer] = v == 0 ? 0 : sad / (3.0 * 255 * v);
                ambiguous[layer] = _ambiguous[d];
            }
            return new NounsDecodedTraits(NounSeed.FromIndices(indices), _d.Art, distances, visible, ambiguous, _bestErr, _d._threshold) { SearchNodes = _nodes, SearchCompleted = !_stopped };
        }
    }

    private static Vector256<byte>[] BuildPixelMasks()
    {
        var masks = new Vector256<byte>[256];
        Span<byte> bytes = stackalloc byte[32];
        for (int bits = 0; bits < 256; bits++)
        {
            bytes.Clear();
            for (int lane = 0; lane < 8; lane++)
            {
                if ((bits & (1 << lane)) == 0) continue;
                bytes[4 * lane] = bytes[4 * lane + 1] = bytes[4 * lane + 2] = 0xFF;
            }
            masks[bits] = Vector256.Create<byte>(bytes);
        }
        return masks;
    }
}
