using System.Buffers.Binary;
using System.Text;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

public class SafeTensorsWriterTests
{
    public SafeTensorsWriterTests() => TorchRuntime.EnsureLoaded();

    /// <summary>
    /// The reference implementation's own serialisation test vectors (safetensors, tensor.rs: test_serialization,
    /// test_serialization_forced_alignement, test_empty): a [1,2,3] and a [1,1,2,3] float32 tensor holding 0…5, and an
    /// empty file with metadata. Our bytes must be theirs exactly.
    /// </summary>
    [Theory]
    [InlineData("attn.0", new long[] { 1, 2, 3 }, 64, "")]
    [InlineData("attn0", new long[] { 1, 1, 2, 3 }, 72, "       ")]
    public void BytesEqualTheReferenceWritersTestVectors(string name, long[] shape, int headerLength, string padding)
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "v.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { [name] = arange(6, dtype: ScalarType.Float32).reshape(shape) });
        string json = $"{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[0,24]}}}}" + padding;
        var expected = new byte[8].Concat(Encoding.ASCII.GetBytes(json)).Concat(RawSafeTensors.F32(0, 1, 2, 3, 4, 5)).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(expected, (ulong)headerLength);
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void AnEmptyFileWithMetadataEqualsTheReferenceVector()
    {
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "e.safetensors");
        SafeTensorsWriter.Write(path, [], metadata: new Dictionary<string, string> { ["framework"] = "pt" });
        byte[] expected =
        [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ];
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void TensorsAreOrderedWidestTypeFirstThenByNameWithContiguousOffsets()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "o.safetensors");
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor>
        {
            ["b"] = ones(2), ["a"] = ones(3), ["ids"] = arange(2L), ["B"] = ones(1),
        }, SafeTensorsDType.BF16, new Dictionary<string, string> { ["z"] = "1", ["format"] = "pt" });
        var bytes = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Equal(
            "{\"__metadata__\":{\"format\":\"pt\",\"z\":\"1\"}," +
            "\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}," +
            "\"B\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[16,18]}," +
            "\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[18,24]}," +
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]}}",
            header.TrimEnd(' '));
        Assert.Equal(8 + headerLength + 28, bytes.Length);
        // bfloat16 1.0 is 0x3F80.
        Assert.Equal(new byte[] { 0x80, 0x3F }, bytes[(int)(8 + headerLength + 16)..(int)(8 + headerLength + 18)]);
    }

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void RoundTripsThroughOurReaderAndAnIndependentOne(string code)
    {
        var dtype = Enum.Parse<SafeTensorsDType>(code);
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, $"r-{dtype}.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["down.weight"] = linspace(-2, 2, 24, dtype: ScalarType.Float32).reshape(2, 3, 4),
            ["up.weight"] = linspace(0, 1, 5, dtype: ScalarType.Float64).reshape(5, 1),
            ["scalar"] = tensor(0.5f),
            ["position_ids"] = arange(7L).unsqueeze(0),
        };
        SafeTensorsWriter.Write(path, tensors, dtype, new Dictionary<string, string> { ["rank"] = "4" });
        var stored = SafeTensorsDTypes.ToScalarType(dtype);
        using (var file = SafeTensorsFile.Open(path))
        {
            Assert.Equal("4", file.Metadata["rank"]);
            foreach (var (name, t) in tensors)
            {
                var expected = t.is_floating_point() ? t.to(stored) : t;
                var back = file.Read(name);
                Assert.Equal(expected.dtype, back.dtype);
                Assert.Equal(t.shape, back.shape);
                Assert.True(RawSafeTensors.Same(back, expected), name);
            }
        }
        // TorchSharp.PyBridge's reader, written independently of ours, reads the same tensors.
        using var stream = File.OpenRead(path);
        var theirs = Safetensors.LoadStateDict(stream);
        Assert.Equal(tensors.Keys.Order(), theirs.Keys.Order());
        foreach (var (name, t) in tensors)
            Assert.True(RawSafeTensors.Same(theirs[name], t.is_floating_point() ? t.to(stored) : t), name);
    }

    [Fact]
    public void LargeTensorsAreStreamedInPiecesWithTheSameBytes()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        // 5M floats = 20 MB, more than one 16 MB piece.
        var big = arange(5_000_000, dtype: ScalarType.Float32).div(1000);
        string ours = Path.Combine(dir.Path, "ours.safetensors");
        SafeTensorsWriter.Write(path: ours, new Dictionary<string, Tensor> { ["big"] = big });
        using var file = SafeTensorsFile.Open(ours);
        Assert.True(RawSafeTensors.Same(file.Read("big"), big));
    }

    [Fact]
    public void NonFiniteValuesAndBadNamesAreRefusedAndLeaveNoFile()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "bad.safetensors");
        var ex = Assert.Throws<InvalidDataException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, 1e5f }) }, SafeTensorsDType.F16));
        Assert.Contains("'w'", ex.Message);
        Assert.Contains("65504", ex.Message);
        Assert.Throws<InvalidDataException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = tensor(new[] { float.NaN }) }));
        Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["__metadata__"] = ones(1) }));
        Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(path, [new("w", ones(1)), new("w", ones(2))]));
        Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["mask"] = ones(new long[] { 2 }, dtype: ScalarType.Bool) }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));

        // A failed write over an existing file leaves it as it was.
        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = ones(2) });
        var before = File.ReadAllBytes(path);
        Assert.Throws<InvalidDataException>(() =>
            SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["w"] = tensor(new[] { float.PositiveInfinity }) }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path));
    }
}
