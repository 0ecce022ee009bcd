using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

public class SafeTensorsFileTests
{
    public SafeTensorsFileTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ReadsWhatAnIndependentWriterWroteAcrossChunkBoundaries()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "w.safetensors");
        var w = arange(1000, dtype: ScalarType.Float32).div(7).reshape(10, 100);
        var ids = arange(77L).unsqueeze(0);
        RawSafeTensors.WriteWithPyBridge(path, new Dictionary<string, Tensor> { ["w"] = w, ["ids"] = ids });
        // 40-byte pieces: 10 floats per read, so the 1,000 floats cross 99 piece boundaries.
        using var file = SafeTensorsFile.Open(path, chunkBytes: 40);
        Assert.Equal(["ids", "w"], file.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(w.data<float>().ToArray(), file.Read("w").data<float>().ToArray());
        Assert.Equal(ids.data<long>().ToArray(), file.Read("ids").data<long>().ToArray());
        // Into an existing tensor of another type: float64, through the staging buffer.
        var dest = zeros(10, 100, dtype: ScalarType.Float64);
        file.CopyTo(file.Entry("w"), dest);
        Assert.Equal(w.to(ScalarType.Float64).data<double>().ToArray(), dest.data<double>().ToArray());
    }

    [Fact]
    public void ConvertsHalfAndBFloat16IntoFloat32AndBack()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        float[] values = [0f, 1f, -2.5f, 0.375f, 1024f, -0.0078125f];   // exact in both 16-bit formats
        var data = RawSafeTensors.F16(values).Concat(RawSafeTensors.BF16(values)).Concat(RawSafeTensors.F32(values)).ToArray();
        string path = Path.Combine(dir.Path, "mixed.safetensors");
        File.WriteAllBytes(path, RawSafeTensors.Build(
            "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}," +
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[12,24]}," +
            "\"f\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[24,48]}}", data));
        using var file = SafeTensorsFile.Open(path, chunkBytes: 8);
        foreach (var name in new[] { "h", "b", "f" })
        {
            var dest = full(new long[] { 2, 3 }, float.NaN, dtype: ScalarType.Float32);
            file.CopyTo(file.Entry(name), dest);
            Assert.Equal(values, dest.data<float>().ToArray());
            // And into the 16-bit types a GPU model runs in: exact values stay exact.
            foreach (var type in new[] { ScalarType.Float16, ScalarType.BFloat16 })
                Assert.Equal(values, file.Read(name, type).to(ScalarType.Float32).data<float>().ToArray());
        }
    }

    [Fact]
    public void Float32IntoBFloat16RoundsAsTorchDoes()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        var values = linspace(-3, 3, 101, dtype: ScalarType.Float32).add(1e-3f);
        string path = Path.Combine(dir.Path, "f.safetensors");
        RawSafeTensors.WriteWithPyBridge(path, new Dictionary<string, Tensor> { ["v"] = values });
        using var file = SafeTensorsFile.Open(path);
        var loaded = file.Read("v", ScalarType.BFloat16);
        Assert.True(RawSafeTensors.Same(loaded, values.to(ScalarType.BFloat16)));
    }

    [Theory]
    [InlineData("F32", 0)]
    [InlineData("F32", 37)]
    [InlineData("F16", 63)]
    [InlineData("BF16", 5)]
    public void ANonFiniteValueIsRefusedNamingTheFileTensorAndElement(string dtype, int badIndex)
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        var values = Enumerable.Range(0, 64).Select(i => i / 8f).ToArray();
        values[badIndex] = badIndex % 2 == 0 ? float.NaN : float.PositiveInfinity;
        var data = dtype switch { "F16" => RawSafeTensors.F16(values), "BF16" => RawSafeTensors.BF16(values), _ => RawSafeTensors.F32(values) };
        string path = Path.Combine(dir.Path, "nan.safetensors");
        File.WriteAllBytes(path, RawSafeTensors.Build($"{{\"layer.weight\":{{\"dtype\":\"{dtype}\",\"shape\":[8,8],\"data_offsets\":[0,{data.Length}]}}}}", data));
        using var file = SafeTensorsFile.Open(path, chunkBytes: 16);   // the bad element may sit in any piece
        var ex = Assert.Throws<InvalidDataException>(() => file.Read("layer.weight", ScalarType.Float32));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'layer.weight'", ex.Message);
        Assert.Contains($"element {badIndex}", ex.Message);
    }

    [Fact]
    public void AFloat32ValueBeyondFloat16RangeIsRefusedForAHalfDestination()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "big.safetensors");
        File.WriteAllBytes(path, RawSafeTensors.Build("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", RawSafeTensors.F32(1, 70000, 2)));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(70000f, file.Read("x")[1].item<float>());   // fine in float32
        var ex = Assert.Throws<InvalidDataException>(() => file.Read("x", ScalarType.Float16));
        Assert.Contains("float16", ex.Message);
        Assert.Contains("element 1", ex.Message);
    }

    [Fact]
    public void ShapeAndKindMismatchesAreRefused()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "s.safetensors");
        RawSafeTensors.WriteWithPyBridge(path, new Dictionary<string, Tensor> { ["w"] = ones(2, 3), ["i"] = arange(3L) });
        using var file = SafeTensorsFile.Open(path);
        var ex = Assert.Throws<InvalidDataException>(() => file.CopyTo(file.Entry("w"), zeros(3, 2)));
        Assert.Contains("[2,3]", ex.Message);
        Assert.Contains("[3,2]", ex.Message);
        // Floats never go into integers, nor integers into floats: that would truncate or reinterpret silently.
        Assert.Throws<InvalidDataException>(() => file.CopyTo(file.Entry("w"), zeros(new long[] { 2, 3 }, dtype: ScalarType.Int64)));
        Assert.Throws<InvalidDataException>(() => file.CopyTo(file.Entry("i"), zeros(3)));
        Assert.Contains("has no tensor 'nope'", Assert.Throws<InvalidDataException>(() => file.Entry("nope")).Message);
    }

    [Fact]
    public void ANonContiguousDestinationIsFilled()
    {
        using var dir = new NounsTestData.TempDir();
        using var scope = NewDisposeScope();
        string path = Path.Combine(dir.Path, "t.safetensors");
        var w = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        RawSafeTensors.WriteWithPyBridge(path, new Dictionary<string, Tensor> { ["w"] = w });
        using var file = SafeTensorsFile.Open(path);
        var storage = zeros(4, 3);
        var view = storage.t();   // [3,4], not contiguous
        file.CopyTo(file.Entry("w"), view);
        Assert.True(RawSafeTensors.Same(storage, w.t()));
    }

    [Fact]
    public void TruncatedAndCorruptedFilesFailAtOpenNamingTheFile()
    {
        using var dir = new NounsTestData.TempDir();
        string good = Path.Combine(dir.Path, "good.safetensors");
        var bytes = RawSafeTensors.Build("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", RawSafeTensors.F32(1, 2, 3, 4));
        File.WriteAllBytes(good, bytes);
        using (var ok = SafeTensorsFile.Open(good)) Assert.Single(ok.Entries);

        string truncated = Path.Combine(dir.Path, "truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..^4]);
        var ex = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(truncated));
        Assert.Contains(truncated, ex.Message);
        Assert.Contains("truncated", ex.Message);

        string headerCut = Path.Combine(dir.Path, "header-cut.safetensors");
        File.WriteAllBytes(headerCut, bytes[..20]);
        Assert.Contains(headerCut, Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(headerCut)).Message);

        string tiny = Path.Combine(dir.Path, "tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(tiny)).Message);

        string twice = Path.Combine(dir.Path, "twice.safetensors");
        File.WriteAllBytes(twice, RawSafeTensors.Build(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
            RawSafeTensors.F32(1, 2, 3, 4)));
        Assert.Contains("names 'w' twice", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(twice)).Message);

        string overlap = Path.Combine(dir.Path, "overlap.safetensors");
        File.WriteAllBytes(overlap, RawSafeTensors.Build(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
            RawSafeTensors.F32(1, 2, 3, 4)));
        Assert.Contains("overlaps", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(overlap)).Message);

        string badMeta = Path.Combine(dir.Path, "meta.safetensors");
        File.WriteAllBytes(badMeta, RawSafeTensors.Build("{\"__metadata__\":{\"n\":1}}", []));
        Assert.Contains("'__metadata__' entry 'n'", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(badMeta)).Message);

        string missing = Path.Combine(dir.Path, "missing.safetensors");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(missing)).Message);
    }

    [Fact]
    public void TheWholeFileCheckStillMatchesTheHeaderOnlyCheck()
    {
        // The package's own model files validate whole in memory; the same header must pass or fail both ways.
        var good = RawSafeTensors.Build("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", RawSafeTensors.F32(1, 2));
        var entries = SafeTensorsHeader.Validate(good, "g");
        Assert.Equal("w", Assert.Single(entries).Name);
        var cut = good[..^1];
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SafeTensorsHeader.Validate(cut, "c")).Message);
    }
}
