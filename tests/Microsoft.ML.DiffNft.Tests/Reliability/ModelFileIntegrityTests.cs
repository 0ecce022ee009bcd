using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Saving;
using Microsoft.ML.DiffNft.Torch;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// The checks every model file goes through before anything in it is deserialised — the SHA-256 list, the zip's CRC-32,
/// the size cap while inflating — and the finiteness of every tensor, for every floating-point type.
/// </summary>
[Collection(TorchGlobalRngCollection.Name)]
public sealed class ModelFileIntegrityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-integrity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Kinds() => new(ModelFileKinds.All.Select(k => k.Name));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryModelFileRecordsTheSha256OfEveryOtherEntry(string kindName)
    {
        var kind = ModelFileKinds.All.Single(k => k.Name == kindName);
        string path = Saved(kind);
        var entries = RawZip.Entries(path).ToDictionary(e => e.Name, e => e.Bytes);
        using var list = JsonDocument.Parse(entries[EntryHashList.EntryName]);
        Assert.Equal(EntryHashList.FormatName, list.RootElement.GetProperty("format").GetString());
        var hashes = list.RootElement.GetProperty("sha256").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(entries.Keys.Where(n => n != EntryHashList.EntryName).Order(StringComparer.Ordinal), hashes.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, hash) in hashes)
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(entries[name])), hash);
        // The reader checks the list and keeps it to itself: a loader sees the entries it wrote, nothing more.
        Assert.DoesNotContain(EntryHashList.EntryName, ModelArchive.Read(path).Keys);
    }

    [Fact]
    public void AnEntryChangedAfterSavingFailsItsSha256CheckEvenWithAValidCrc()
    {
        // What a hand edit or another zip tool does: the zip is consistent, the content is not what was saved.
        string path = Saved(ModelFileKinds.Diffusion);
        RawZip.Edit(path, entries => entries.Select(e => e.Name == ModelFile.ManifestEntry ? (e.Name, [.. e.Bytes, (byte)' ']) : e));
        var ex = Assert.Throws<InvalidDataException>(() => ModelFileKinds.Diffusion.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"entry '{ModelFile.ManifestEntry}' fails its SHA-256 check", ex.Message);
    }

    [Fact]
    public void AnEntryAddedOrRemovedAfterSavingIsRefused()
    {
        string path = Saved(ModelFileKinds.Reward);
        RawZip.Edit(path, entries => entries.Append(("extra.json", "{}"u8.ToArray())));
        var ex = Assert.Throws<InvalidDataException>(() => ModelFileKinds.Reward.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("entry 'extra.json' is not listed", ex.Message);

        path = Saved(ModelFileKinds.Reward);
        RawZip.Edit(path, entries => entries.Where(e => e.Name != ModelFile.WeightsEntry));
        ex = Assert.Throws<InvalidDataException>(() => ModelFileKinds.Reward.Load(path));
        Assert.Contains($"has no entry '{ModelFile.WeightsEntry}', which '{EntryHashList.EntryName}' lists", ex.Message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"format\":\"diffnft.sha256\",\"version\":1}")]
    [InlineData("{\"format\":\"other\",\"version\":1,\"sha256\":{}}")]
    [InlineData("{\"format\":\"diffnft.sha256\",\"version\":2,\"sha256\":{}}")]
    public void ADamagedOrForeignHashListIsRefusedNamingIt(string list)
    {
        string path = Saved(ModelFileKinds.TraitClassifier);
        RawZip.Edit(path, entries => entries.Select(e => e.Name == EntryHashList.EntryName ? (e.Name, Encoding.UTF8.GetBytes(list)) : e));
        var ex = Assert.Throws<InvalidDataException>(() => ModelFileKinds.TraitClassifier.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(EntryHashList.EntryName, ex.Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AFileWrittenBeforeHashListsLoadsOnItsCrcChecks(string kindName)
    {
        // Compatibility: files saved by earlier builds have no hash list. They load, with every entry's CRC-32 checked.
        var kind = ModelFileKinds.All.Single(k => k.Name == kindName);
        string path = Saved(kind);
        byte[] expected = kind.Load(path);
        RawZip.Edit(path, entries => entries.Where(e => e.Name != EntryHashList.EntryName));
        Assert.Equal(expected, kind.Load(path));
    }

    [Theory]
    [InlineData("base.diffnft")]
    [InlineData("reward.diffnft-reward")]
    public void TheBundledModelsCarryAHashListThatHolds(string file)
    {
        // Re-saved once to add the list (models/builtin/README.md), so they get the full check, not the compatible one.
        string path = Path.Combine(RepositoryPaths.Root, "models", "builtin", file);
        Assert.Contains(EntryHashList.EntryName, RawZip.Entries(path).Select(e => e.Name));
        Assert.Contains(ModelFile.WeightsEntry, ModelArchive.Read(path).Keys);
    }

    [Fact]
    public void AFlippedByteInAnEntryStoredWithoutCompressionFailsItsCrcCheck()
    {
        // Stored entries inflate to whatever bytes they hold: only the CRC-32 can tell. .NET 10 does not compare it.
        string path = Saved(ModelFileKinds.TraitClassifier);
        RawZip.Edit(path, entries => entries.Where(e => e.Name != EntryHashList.EntryName), CompressionLevel.NoCompression);
        byte[] zip = File.ReadAllBytes(path);
        var (start, length) = DamagedModelFileTests.CompressedData(zip, ModelFile.WeightsEntry);
        zip[start + length / 2] ^= 0x01;
        File.WriteAllBytes(path, zip);
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"entry '{ModelFile.WeightsEntry}' fails its CRC-32 check", ex.Message);
    }

    [Fact]
    public void AnEntryDeclaringMoreThanItHoldsCostsOnlyWhatInflates()
    {
        // 60 MB declared (under the ratio floor, so the declaration alone passes), 1,000 bytes inside: before, the reader
        // allocated the declared size up front. Now memory grows with the bytes that really inflate.
        string path = Path.Combine(_dir, "liar.diffnft");
        RawZip.Write(path, [(ModelFile.WeightsEntry, new byte[1000])]);
        byte[] zip = File.ReadAllBytes(path);
        int central = zip.AsSpan().IndexOf("PK\u0001\u0002"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), 60_000_000);
        File.WriteAllBytes(path, zip);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains(path, ex.Message);
        Assert.Contains($"entry '{ModelFile.WeightsEntry}' inflates to 1,000 bytes but declares 60,000,000", ex.Message);
        Assert.True(allocated < 10L << 20, $"reading the entry allocated {allocated:N0} bytes");
    }

    [Fact]
    public void AnEntryLongerThanItDeclaresIsRefusedAfterTheDeclaredBytes()
    {
        // 1 MiB inside, 1,000 bytes declared. .NET stops inflating at the declared size, so no more is ever kept; the
        // bytes that did arrive are not the data the CRC-32 was computed over. (The reader also asks for one byte more
        // and refuses an entry that gives it, should an inflater not stop.)
        string path = Path.Combine(_dir, "longer.diffnft");
        RawZip.Write(path, [(ModelFile.WeightsEntry, new byte[1 << 20])]);
        byte[] zip = File.ReadAllBytes(path);
        int central = zip.AsSpan().IndexOf("PK\u0001\u0002"u8);
        BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(central + 24), 1000);
        File.WriteAllBytes(path, zip);
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.Read(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains($"entry '{ModelFile.WeightsEntry}' fails its CRC-32 check", ex.Message);
    }

    [Theory]
    [InlineData("F32", 4, 0x7FC0_0000UL)]            // NaN
    [InlineData("F32", 4, 0xFF80_0000UL)]            // −∞
    [InlineData("F64", 8, 0x7FF0_0000_0000_0000UL)]  // +∞
    [InlineData("F16", 2, 0x7E00UL)]                 // NaN
    [InlineData("BF16", 2, 0x7F80UL)]                // +∞
    public void ANonFiniteValueOfAnyFloatingPointTypeIsRefused(string dtype, int size, ulong bits)
    {
        byte[] file = SafeTensors(dtype, size, count: 5, badIndex: 3, bits);
        var ex = Assert.Throws<InvalidDataException>(() => ModelArchive.LoadTensors(file, "m.diffnft:weights.safetensors"));
        Assert.Contains("'m.diffnft:weights.safetensors': tensor 'w' holds non-finite weights", ex.Message);
        Assert.Contains("element 3", ex.Message);
        // The same bits in an integer tensor are a number like any other.
        string integer = size switch { 2 => "I16", 4 => "I32", _ => "I64" };
        using var scope = NewDisposeScope();
        Assert.Single(ModelArchive.LoadTensors(SafeTensors(integer, size, count: 5, badIndex: 3, bits), "ints"));
    }

    [Fact]
    public void AFineTuneCheckpointWithANonFiniteOptimizerMomentDoesNotLoad()
    {
        // Checkpoints load through the same reader as models: a NaN moment would turn the next step's weights into NaN.
        var kind = ModelFileKinds.FineTuneCheckpoint;
        string path = Saved(kind);
        var entries = ModelArchive.Read(path);
        using (var scope = NewDisposeScope())
        {
            var tensors = ModelArchive.LoadTensors(entries, "state.safetensors", path);
            string moment = tensors.Keys.Order(StringComparer.Ordinal).First(k => k.StartsWith("adam.v.", StringComparison.Ordinal));
            using (no_grad()) tensors[moment].view(-1)[0] = tensor(float.NaN);
            entries["state.safetensors"] = ModelArchive.SaveTensors(tensors);
        }
        ModelArchive.Write(path, entries);
        var ex = Assert.Throws<InvalidDataException>(() => kind.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("non-finite", ex.Message);
    }

    private string Saved(ModelFileKind kind)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}{kind.Extension}");
        kind.Save(path);
        return path;
    }

    // A safetensors file with one tensor 'w' of `count` zero elements, element `badIndex` set to `bits`.
    private static byte[] SafeTensors(string dtype, int size, int count, int badIndex, ulong bits)
    {
        byte[] header = Encoding.UTF8.GetBytes($"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":[{count}],\"data_offsets\":[0,{count * size}]}}}}");
        var file = new byte[8 + header.Length + count * size];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        var element = file.AsSpan(8 + header.Length + badIndex * size, size);
        for (int b = 0; b < size; b++) element[b] = (byte)(bits >> (8 * b));
        return file;
    }
}
