using System.IO.Compression;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class ModelArchiveTests
{
    [Theory]
    [InlineData("../evil.json")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("C:\\x")]
    public void EntriesThatCouldEscapeTheFolderAreRejected(string name)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "bad.diffnft");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry(name).Open())
            s.WriteByte(1);
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        Assert.Contains("plain relative name", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void TensorsRoundTripAndShapesAreCheckedAgainstExpectations()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var bytes = ModelArchive.SaveTensors(new Dictionary<string, Tensor> { ["w"] = arange(6, dtype: float32).reshape(2, 3) });
        var back = ModelArchive.LoadTensors(bytes, "t.safetensors", new Dictionary<string, long[]> { ["w"] = new long[] { 2, 3 } });
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, back["w"].data<float>().ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.LoadTensors(bytes, "t.safetensors", new Dictionary<string, long[]> { ["w"] = new long[] { 3, 2 } }));
        Assert.Contains("tensor 'w' has shape [2,3]", ex.Message);
        ex = Assert.Throws<InvalidDataException>(() => ModelArchive.LoadTensors(bytes, "t.safetensors", new Dictionary<string, long[]> { ["v"] = new long[] { 2, 3 } }));
        Assert.Contains("no tensor 'v'", ex.Message);
    }

    [Fact]
    public void SafeTensorsHeadersThatPointPastTheFileAreRejected()
    {
        // A header claiming 24 bytes of F32 data [2,3] while the file holds only 8.
        var header = System.Text.Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}");
        var file = new byte[8 + header.Length + 8];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(file, 0);
        header.CopyTo(file, 8);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsHeader.Validate(file, "x.safetensors"));
        Assert.Contains("truncated", ex.Message);
        // Offsets that disagree with the shape.
        var header2 = System.Text.Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}");
        var file2 = new byte[8 + header2.Length + 24];
        BitConverter.GetBytes((ulong)header2.Length).CopyTo(file2, 0);
        header2.CopyTo(file2, 8);
        ex = Assert.Throws<InvalidDataException>(() => SafeTensorsHeader.Validate(file2, "y.safetensors"));
        Assert.Contains("expected 24", ex.Message);
        // A header length larger than the file.
        var file3 = new byte[16];
        BitConverter.GetBytes(1000UL).CopyTo(file3, 0);
        Assert.Throws<InvalidDataException>(() => SafeTensorsHeader.Validate(file3, "z.safetensors"));
    }
}
