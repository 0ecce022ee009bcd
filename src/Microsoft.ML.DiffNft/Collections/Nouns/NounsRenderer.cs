using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Collections.Nouns;

/// <summary>
/// Renders Nouns: background fill, then body, accessory, head and glasses, each part's opaque cells drawn over the
/// layers below — the raster equivalent of the official SVG (which draws each cell as a 10×10 rectangle).
/// </summary>
internal static class NounsRenderer
{
    /// <summary>Renders a Noun at its native 32×32 (one pixel per cell, fully opaque).</summary>
    /// <param name="seed">The part indices; validated against the art.</param>
    /// <param name="art">The part library; the built-in Nouns art when null.</param>
    public static RgbaImage Render(NounSeed seed, NounsArt? art = null)
    {
        art ??= NounsArt.Default;
        seed.Validate(art);
        var image = new RgbaImage(NounsArt.GridSize, NounsArt.GridSize);
        RenderInto(seed, art, image.Pixels);
        return image;
    }

    /// <summary>Renders a Noun enlarged by an integer factor with nearest-neighbour sampling (crisp pixel art).</summary>
    /// <param name="seed">The part indices; validated against the art.</param>
    /// <param name="scale">The enlargement factor (1 = 32×32, 10 = the official 320×320).</param>
    /// <param name="art">The part library; the built-in Nouns art when null.</param>
    public static RgbaImage Render(NounSeed seed, int scale, NounsArt? art = null)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale factor must be at least 1.");
        var image = Render(seed, art);
        return scale == 1 ? image : image.ScaleNearest(scale);
    }

    /// <summary>Draws a validated seed into a 32×32 RGBA buffer (every pixel is overwritten).</summary>
    internal static void RenderInto(NounSeed seed, NounsArt art, Span<byte> rgba)
    {
        foreach (var layer in NounsLayers.DrawOrder)
            art.Parts(layer)[seed[layer]].DrawOnto(rgba);
    }
}
