using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.FineTuning;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// Crafted and damaged files that used to crash, allocate without bound or pass as data: a PNG header declaring 50000²
/// pixels (an int overflow and an out-of-bounds write before), a truncated PNG (scored as if it were art), and a
/// diffusion model with a non-finite weight (black images before).
/// </summary>
public sealed class HostileFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(50_000, 50_000)]
    [InlineData(32_768, 32_768)]
    [InlineData(10_000, 10_000)]
    public void AHugeDeclaredImageIsRefusedBeforeItsPixelsAreAllocated(int width, int height)
    {
        string path = Path.Combine(_dir, $"huge-{width}.png");
        File.WriteAllBytes(path, Png(width, height, rows: 1));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => PngCodec.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(path, ex.Message);
        Assert.Contains($"{width}×{height}", ex.Message);
        Assert.True(allocated < 100L << 20, $"refusing the image allocated {allocated:N0} bytes");
    }

    [Fact]
    public void ALargerLimitAdmitsALargerImage()
    {
        string path = Path.Combine(_dir, "wide.png");
        File.WriteAllBytes(path, PngCodec.Encode(new RgbaImage(300, 200, new byte[300 * 200 * 4])));
        Assert.Throws<InvalidDataException>(() => PngCodec.Load(path, maxPixels: 300 * 200 - 1));
        Assert.Equal(300, PngCodec.Load(path, maxPixels: 300 * 200).Width);
    }

    [Theory]
    [InlineData(0, 1, 2, 3, 4)]
    [InlineData(1, 0, 5, 7, 2)]
    [InlineData(0, 3, 9, 11, 6)]
    public void EveryTruncationOfAPngIsAnErrorNamingTheFile(int background, int body, int accessory, int head, int glasses)
    {
        // A rendered Noun: a small, well-compressed PNG. The issue's case was its first 200 of 433 bytes, which the decoder
        // reported as merely "incomplete" and the loader took as art (scored rare with probability 0.99976). Every cut
        // point must now be an error, unless only trailing bytes after the last pixel were lost (the IEND chunk, the
        // checksums): then the image must be exactly the original.
        var original = NounsRenderer.Render(new NounSeed(background, body, accessory, head, glasses));
        byte[] png = PngCodec.Encode(original);
        string path = Path.Combine(_dir, "cut.png");
        var accepted = new List<int>();
        for (int length = 1; length < png.Length; length++)
        {
            File.WriteAllBytes(path, png[..length]);
            try
            {
                if (!PngCodec.Load(path).Pixels.AsSpan().SequenceEqual(original.Pixels)) accepted.Add(length);
            }
            catch (InvalidDataException ex)
            {
                Assert.Contains(path, ex.Message);
            }
        }
        Assert.True(accepted.Count == 0, $"{accepted.Count} of {png.Length - 1} truncations decoded as other images, for example {string.Join(", ", accepted.Take(5))} bytes");
        File.WriteAllBytes(path, png);
        Assert.Equal(32, PngCodec.Load(path).Width);   // the whole file still decodes
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ADiffusionModelWithANonFiniteWeightDoesNotLoad(float bad)
    {
        string path = Path.Combine(_dir, "model.diffnft");
        FineTuneTestModels.Base.Save(path);
        Rewrite(path, ModelFile.WeightsEntry, weights =>
        {
            var tensors = ModelArchive.LoadTensors(weights, "weights");
            var first = tensors.Keys.Order(StringComparer.Ordinal).First(k => tensors[k].dtype == ScalarType.Float32);
            using (no_grad()) tensors[first].view(-1)[0] = tensor(bad);
            return ModelArchive.SaveTensors(tensors);
        });
        var ex = Assert.Throws<InvalidDataException>(() => DiffusionModel.Load(path, DiffNftDevice.Cpu));
        Assert.Contains(path, ex.Message);
        Assert.Contains("non-finite", ex.Message);
    }

    [Theory]
    [InlineData(3_900_000_000L)]   // over int: an OverflowException stack trace before
    [InlineData(2_000_000_000L)]   // inflated into 2.18 GB of memory before being rejected
    public void AZipEntryDeclaringGigabytesIsRefusedBeforeItIsInflated(long declared)
    {
        string path = Path.Combine(_dir, "bomb.diffnft");
        ModelArchive.Write(path, new Dictionary<string, byte[]> { ["weights.safetensors"] = new byte[1000] });
        // Patch the entry's uncompressed size in the central directory, which is what the reader trusts. (The file also
        // holds the hash list, 'sha256.json', whose header comes first.)
        byte[] zip = File.ReadAllBytes(path);
        int central = IndexOf(zip, [0x50, 0x4b, 0x01, 0x02, .. new byte[42], .. Encoding.UTF8.GetBytes("weights.safetensors")], wildcardFrom: 4, wildcardCount: 42);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), (uint)declared);
        File.WriteAllBytes(path, zip);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100L << 20, "refusing the entry allocated 100 MB or more");
        Assert.Contains(path, ex.Message);
        Assert.Contains("weights.safetensors", ex.Message);
    }

    [Fact]
    public void AnEntryThatExpandsAThousandfoldIsRefused()
    {
        string path = Path.Combine(_dir, "zeros.diffnft");
        ModelArchive.Write(path, new Dictionary<string, byte[]> { ["weights.safetensors"] = new byte[80 << 20] });   // 80 MB of zeros
        Assert.True(new FileInfo(path).Length < 1 << 20);
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        Assert.Contains("zip bomb", ex.Message);
        ModelArchive.Write(path, new Dictionary<string, byte[]> { ["weights.safetensors"] = new byte[8 << 20] });    // small: read whatever its ratio
        Assert.Equal(8 << 20, ModelArchive.Read(path)["weights.safetensors"].Length);
    }

    // The first place where haystack matches needle, ignoring the needle's bytes [wildcardFrom, wildcardFrom + wildcardCount).
    private static int IndexOf(byte[] haystack, byte[] needle, int wildcardFrom = 0, int wildcardCount = 0)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var here = haystack.AsSpan(i, needle.Length);
            if (here[..wildcardFrom].SequenceEqual(needle.AsSpan(0, wildcardFrom))
                && here[(wildcardFrom + wildcardCount)..].SequenceEqual(needle.AsSpan(wildcardFrom + wildcardCount)))
                return i;
        }
        throw new InvalidOperationException("signature not found");
    }

    // A PNG with a valid signature, IHDR (RGBA, 8 bits) and IEND, and `rows` rows of zero pixels compressed into IDAT.
    private static byte[] Png(int width, int height, int rows)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 6;   // RGBA
        Chunk(output, "IHDR", ihdr);
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + 4L * width];
            for (int r = 0; r < rows; r++) z.Write(row);
        }
        Chunk(output, "IDAT", idat.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        output.Write(header);
        output.Write(data);
        var crc = new byte[4];
        // PNG chunks carry the zip format's CRC-32.
        BinaryPrimitives.WriteUInt32BigEndian(crc, Microsoft.ML.DiffNft.Saving.Crc32.Of([.. header.AsSpan(4).ToArray(), .. data]));
        output.Write(crc);
    }

    [Fact]
    public void TheCrc32IsTheZipAndPngChecksum() =>
        // The standard check value of CRC-32/ISO-HDLC, the CRC of zip entries and PNG chunks.
        Assert.Equal(0xCBF43926u, Microsoft.ML.DiffNft.Saving.Crc32.Of("123456789"u8));

    private static void Rewrite(string path, string entry, Func<byte[], byte[]> change)
    {
        var entries = ModelArchive.Read(path);
        entries[entry] = change(entries[entry]);
        ModelArchive.Write(path, entries);
    }
}
