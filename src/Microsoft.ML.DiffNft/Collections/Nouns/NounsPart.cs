using System.Runtime.Intrinsics;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// One Nouns part (a trait value of one layer) decoded onto the 32×32 grid: its file name, its trait value and the
/// list of opaque pixels with their colours. Backgrounds are parts too: a solid colour covering every pixel.
/// </summary>
/// <remarks>
/// The pixel lists are what the renderer and the trait decoder iterate over; they are kept as flat arrays (pixel index
/// <c>y*32+x</c> and packed RGB) because a part covers only a few dozen to a few hundred of the 1,024 cells.
/// </remarks>
internal sealed class NounsPart
{
    private readonly int[] _pixels;
    private readonly byte[] _rgb;

    internal NounsPart(NounsLayer layer, int index, string fileName, string traitValue, int[] pixels, byte[] rgb)
    {
        if (rgb.Length != pixels.Length * 3) throw new ArgumentException("One RGB triplet per pixel is required.", nameof(rgb));
        Layer = layer;
        Index = index;
        FileName = fileName;
        TraitValue = traitValue;
        _pixels = pixels;
        _rgb = rgb;
        (Coverage, BlockIndex, BlockRgba, BlockOpaque) = BuildMasks(pixels, rgb);
    }

    /// <summary>The opaque pixels as a 1,024-bit mask (bit <c>p % 64</c> of word <c>p / 64</c>).</summary>
    internal ulong[] Coverage { get; }

    /// <summary>Indices (0–127) of the 8-pixel blocks that hold at least one opaque pixel.</summary>
    internal int[] BlockIndex { get; }

    /// <summary>Per block, the part's colours as RGBA bytes with alpha 0 (so that only RGB is compared).</summary>
    internal Vector256<byte>[] BlockRgba { get; }

    /// <summary>Per block, which of its 8 pixels are opaque (bit i = pixel i of the block).</summary>
    internal byte[] BlockOpaque { get; }

    /// <summary>The layer this part belongs to.</summary>
    public NounsLayer Layer { get; }

    /// <summary>The part's index within its layer, in <c>image-data.json</c> order (the index a Noun seed uses).</summary>
    public int Index { get; }

    /// <summary>The part's file name in <c>image-data.json</c> (for example <c>head-goat</c>); for a background, its hex colour.</summary>
    public string FileName { get; }

    /// <summary>
    /// The trait value written in metadata and captions: the file name without its layer prefix, dashes turned into
    /// spaces (<c>head-goat</c> → <c>goat</c>); backgrounds <c>d5d7e1</c> → <c>cool</c>, <c>e1d7d5</c> → <c>warm</c>.
    /// </summary>
    public string TraitValue { get; }

    /// <summary>Number of opaque pixels (0 for the empty part <c>accessory-none</c>, 1,024 for a background).</summary>
    public int OpaqueCount => _pixels.Length;

    /// <summary>True when the part draws nothing.</summary>
    public bool IsEmpty => _pixels.Length == 0;

    /// <summary>Indices (<c>y*32+x</c>) of the opaque pixels, in row-major order.</summary>
    public ReadOnlySpan<int> OpaquePixels => _pixels;

    /// <summary>Colours of the opaque pixels: three bytes (R, G, B) per entry of <see cref="OpaquePixels"/>.</summary>
    public ReadOnlySpan<byte> OpaqueRgb => _rgb;

    /// <summary>Returns the part as a new 32×32 RGBA image (transparent where the part draws nothing).</summary>
    public RgbaImage ToImage()
    {
        var image = new RgbaImage(NounsArt.GridSize, NounsArt.GridSize);
        DrawOnto(image.Pixels);
        return image;
    }

    /// <summary>Draws the part's opaque pixels over a 32×32 RGBA buffer.</summary>
    internal void DrawOnto(Span<byte> rgba)
    {
        for (int i = 0; i < _pixels.Length; i++)
        {
            int o = _pixels[i] * 4;
            rgba[o] = _rgb[3 * i];
            rgba[o + 1] = _rgb[3 * i + 1];
            rgba[o + 2] = _rgb[3 * i + 2];
            rgba[o + 3] = 255;
        }
    }

    private static (ulong[], int[], Vector256<byte>[], byte[]) BuildMasks(int[] pixels, byte[] rgb)
    {
        var coverage = new ulong[NounsArt.PixelCount / 64];
        var blockRgba = new byte[NounsArt.PixelCount / 8][];
        var blockOpaque = new byte[NounsArt.PixelCount / 8];
        for (int i = 0; i < pixels.Length; i++)
        {
            int p = pixels[i];
            coverage[p >> 6] |= 1UL << (p & 63);
            int b = p >> 3, lane = p & 7;
            blockRgba[b] ??= new byte[32];
            blockRgba[b][4 * lane] = rgb[3 * i];
            blockRgba[b][4 * lane + 1] = rgb[3 * i + 1];
            blockRgba[b][4 * lane + 2] = rgb[3 * i + 2];
            blockOpaque[b] |= (byte)(1 << lane);
        }
        var index = new List<int>();
        var colours = new List<Vector256<byte>>();
        var opaque = new List<byte>();
        for (int b = 0; b < blockOpaque.Length; b++)
        {
            if (blockOpaque[b] == 0) continue;
            index.Add(b);
            colours.Add(Vector256.Create(blockRgba[b]));
            opaque.Add(blockOpaque[b]);
        }
        return (coverage, [.. index], [.. colours], [.. opaque]);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{NounsLayers.TraitType(Layer)} {Index} ({FileName})";
}
