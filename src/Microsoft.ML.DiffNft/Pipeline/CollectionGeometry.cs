using System.Globalization;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Pipeline;

/// <summary>
/// The resolution policy for a collection of one's own and the pixel-space diffusion models: how its images become the
/// squares a model trains on, and how generated squares become images of the collection's shape again.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><b>Transparency</b> is composited onto white — the rule the evaluator's feature networks apply, so real and
/// generated images are judged alike.</item>
/// <item><b>Size.</b> A longest side up to the limit — <see cref="MaxSide"/> (64) for pixel-space models,
/// <see cref="MaxLatentSide"/> (128) for latent ones — is kept. A larger image is reduced by the smallest integer factor
/// that divides both sides and brings the longest side to the limit or less: exact for art enlarged by nearest neighbour
/// (a 128×128 Noun becomes 64×64 for a pixel model, still its 32×32 original enlarged 2× bit for bit; 1000×1000 becomes
/// 50×50, or 125×125 for a latent model). Only factors that leave a longest side above half the limit count. Where no
/// such factor divides, it is resampled by pixel area so that its longest side is the limit, aspect kept. This is the
/// <em>working size</em>: the collection the run writes, compares with and reports is at this size.</item>
/// <item><b>Square and divisible.</b> A model trains on squares whose side its levels divide (<see cref="Divisor"/>):
/// the working image is centred on the smallest such square and the border repeats the image's edge pixels, so the
/// padding adds no colour the art lacks; generated squares are cropped back to the working size. CrypToadz' 36×36 and
/// Nouns' 32×32 need no padding.</item>
/// </list>
/// </remarks>
internal sealed record CollectionGeometry
{
    /// <summary>The longest working side of the pixel-space models: 64.</summary>
    public const int MaxSide = 64;

    /// <summary>The longest working side of latent models (a 4× VAE and the Small UNet at 32×32 latents): 128.</summary>
    public const int MaxLatentSide = 128;

    /// <summary>Width of the collection's images.</summary>
    public required int SourceWidth { get; init; }

    /// <summary>Height of the collection's images.</summary>
    public required int SourceHeight { get; init; }

    /// <summary>Width at which the run works (at most <see cref="MaxSide"/>).</summary>
    public required int Width { get; init; }

    /// <summary>Height at which the run works (at most <see cref="MaxSide"/>).</summary>
    public required int Height { get; init; }

    /// <summary>The side of the squares the model trains on and generates: a multiple of <see cref="Divisor"/>.</summary>
    public required int Side { get; init; }

    /// <summary>What the model's side must be a multiple of (its patch size times 2 per level below the first).</summary>
    public required int Divisor { get; init; }

    /// <summary>Columns of padding left of the working image in the square.</summary>
    public int Left => (Side - Width) / 2;

    /// <summary>Rows of padding above the working image in the square.</summary>
    public int Top => (Side - Height) / 2;

    /// <summary>Whether the collection's images are reduced to the working size.</summary>
    public bool Resamples => Width != SourceWidth || Height != SourceHeight;

    /// <summary>Whether the working images are padded to the model's square.</summary>
    public bool Pads => Side != Width || Side != Height;

    /// <summary>The policy for images of <paramref name="width"/>×<paramref name="height"/> and a model whose side must be a multiple of <paramref name="divisor"/>.</summary>
    /// <param name="width">Width of the collection's images (all have one size).</param>
    /// <param name="height">Height of the collection's images.</param>
    /// <param name="divisor">What the model's side must be a multiple of (<see cref="Diffusion.UNetOptions.SizeDivisor"/>, times the VAE's downscale factor for a latent model).</param>
    /// <param name="maxSide">The longest working side: <see cref="MaxSide"/> for pixel models, <see cref="MaxLatentSide"/> for latent ones.</param>
    public static CollectionGeometry Choose(int width, int height, int divisor, int maxSide = MaxSide)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(divisor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSide, 2);
        int w = width, h = height, longest = Math.Max(width, height);
        if (longest > maxSide)
        {
            // Only a factor that keeps more than half of the working limit: 97×97 is resampled to 64×64, not divided to 1×1.
            int factor = Enumerable.Range(2, longest).FirstOrDefault(k => width % k == 0 && height % k == 0 && longest / k <= maxSide && 2 * (longest / k) > maxSide);
            if (factor > 0) (w, h) = (width / factor, height / factor);
            else if (width >= height) (w, h) = (maxSide, Math.Max(1, (int)Math.Round((double)height * maxSide / width)));
            else (w, h) = (Math.Max(1, (int)Math.Round((double)width * maxSide / height)), maxSide);
        }
        int side = (Math.Max(w, h) + divisor - 1) / divisor * divisor;
        return new CollectionGeometry { SourceWidth = width, SourceHeight = height, Width = w, Height = h, Side = side, Divisor = divisor };
    }

    /// <summary>A collection image at the working size, opaque (alpha onto white, then pixel areas averaged).</summary>
    /// <param name="image">An image of the collection's size.</param>
    public RgbaImage ToWorking(RgbaImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != SourceWidth || image.Height != SourceHeight)
            throw new ArgumentException($"The image is {image.Width}×{image.Height}; this collection's images are {SourceWidth}×{SourceHeight}.", nameof(image));
        return !Resamples && IsOpaque(image) ? image : FeatureImageResampler.Resample(image, Width, Height);
    }

    /// <summary>A working-size image centred on the model's square, the border repeating its edge pixels.</summary>
    /// <param name="working">An image of the working size.</param>
    public RgbaImage ToTraining(RgbaImage working)
    {
        ArgumentNullException.ThrowIfNull(working);
        if (working.Width != Width || working.Height != Height)
            throw new ArgumentException($"The image is {working.Width}×{working.Height}; the working size is {Width}×{Height}.", nameof(working));
        if (!Pads) return working;
        var square = new RgbaImage(Side, Side);
        for (int y = 0; y < Side; y++)
        {
            int sy = Math.Clamp(y - Top, 0, Height - 1);
            for (int x = 0; x < Side; x++)
            {
                int sx = Math.Clamp(x - Left, 0, Width - 1);
                Array.Copy(working.Pixels, 4 * (sy * Width + sx), square.Pixels, 4 * (y * Side + x), 4);
            }
        }
        return square;
    }

    /// <summary>A generated square cropped back to the working size.</summary>
    /// <param name="square">An image of the model's side.</param>
    public RgbaImage FromTraining(RgbaImage square)
    {
        ArgumentNullException.ThrowIfNull(square);
        if (square.Width != Side || square.Height != Side)
            throw new ArgumentException($"The image is {square.Width}×{square.Height}; the model generates {Side}×{Side}.", nameof(square));
        return Pads ? square.Crop(Left, Top, Width, Height) : square;
    }

    /// <summary>One line for logs and the report: "1000×1000 → 64×64 (area), trained as 64×64".</summary>
    public string Describe()
    {
        string size = string.Create(CultureInfo.InvariantCulture, $"{SourceWidth}×{SourceHeight}");
        if (Resamples)
            size += string.Create(CultureInfo.InvariantCulture, $" → {Width}×{Height} ({(SourceWidth % Width == 0 && SourceHeight % Height == 0 && SourceWidth / Width == SourceHeight / Height ? $"÷{SourceWidth / Width} exactly" : "pixel-area resampling")})");
        return size + (Pads ? string.Create(CultureInfo.InvariantCulture, $", padded to {Side}×{Side} by repeating edge pixels") : string.Create(CultureInfo.InvariantCulture, $", trained as {Side}×{Side}"));
    }

    /// <summary>Whether every pixel of the image has alpha 255.</summary>
    public static bool IsOpaque(RgbaImage image)
    {
        var px = image.Pixels;
        for (int i = 3; i < px.Length; i += 4)
            if (px[i] != 255) return false;
        return true;
    }
}
